#!/usr/bin/env python3
"""Smoke test of a running shop: the checks a deployment must pass before it is trusted.

    deploy/smoke.py BASE_URL [--expect-revision REV] [--wait SECONDS]

1. Waits (up to --wait, default 180 s) until /health answers — with build.revision = REV when
   --expect-revision is given, so that a rollout still in progress is not mistaken for the
   new build — and /ready answers 200.
2. /openapi.json and the catalog answer.
3. A customer signs in: SMOKE_EMAIL / SMOKE_PASSWORD (a standing smoke account, registered on
   first use), else a new throwaway account.
4. It buys one unit: of a product the smoke creates itself when SMOKE_ADMIN_EMAIL /
   SMOKE_ADMIN_PASSWORD are set (deleted afterwards, its stock checked back), else of the
   first product in stock.
5. Checkout with an Idempotency-Key, twice: one order (201, then 200 with the same ID); the
   order is visible by ID and in the list; cancelling it gives the stock back.
6. Cleans up whatever it made — cart, order, product, session — also after a failure.

Python's standard library only: runs on any CI runner, any laptop, next to the container.
Exit status 0 when every check passed, 1 otherwise (each check prints one line).
"""

import argparse
import json
import os
import secrets
import sys
import time
import urllib.error
import urllib.request


class SmokeFailure(Exception):
    """A check that did not hold."""


class Client:
    def __init__(self, base, timeout):
        self.base = base.rstrip("/")
        self.timeout = timeout

    def call(self, method, path, body=None, token=None, headers=None):
        """(status, parsed JSON or None, headers)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("accept", "application/json")
        request.add_header("user-agent", "shop-smoke/1")
        if data is not None:
            request.add_header("content-type", "application/json")
        if token:
            request.add_header("authorization", "Bearer " + token)
        for key, value in (headers or {}).items():
            request.add_header(key, value)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status, raw, got = response.status, response.read(), response.headers
        except urllib.error.HTTPError as error:
            status, raw, got = error.code, error.read(), error.headers
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        return status, parsed, got

    def expect(self, want, method, path, **kwargs):
        status, body, headers = self.call(method, path, **kwargs)
        wanted = want if isinstance(want, tuple) else (want,)
        if status not in wanted:
            raise SmokeFailure(f"{method} {path}: {status}, wanted {want}: {body}")
        return body, headers


class Smoke:
    def __init__(self, client):
        self.client = client
        self.passed = 0
        self.cleanups = []

    def check(self, what, ok=True, detail=""):
        if not ok:
            raise SmokeFailure(f"{what}: {detail}")
        self.passed += 1
        print(f"ok   {what}", flush=True)

    def wait_until_serving(self, wait, revision):
        deadline = time.monotonic() + wait
        last = "no answer"
        while True:
            try:
                status, health, _ = self.client.call("GET", "/health")
                running = ((health or {}).get("build") or {}).get("revision")
                if status != 200:
                    last = f"/health answered {status}"
                elif revision and running != revision:
                    last = f"/health reports revision {running!r}, waiting for {revision!r}"
                else:
                    ready, body, _ = self.client.call("GET", "/ready")
                    if ready == 200:
                        build = (health or {}).get("build") or {}
                        self.check(
                            "serving: /health and /ready"
                            + (f" (version {build.get('version')}, revision {running})" if build else "")
                        )
                        return
                    last = f"/ready answered {ready}: {body}"
            except OSError as error:
                last = str(error)
            if time.monotonic() > deadline:
                raise SmokeFailure(f"not serving after {wait} s: {last}")
            time.sleep(2)

    def customer(self):
        email = os.environ.get("SMOKE_EMAIL")
        password = os.environ.get("SMOKE_PASSWORD")
        if not (email and password):
            email = f"smoke-{secrets.token_hex(6)}@smoke.example.com"
            password = secrets.token_urlsafe(18)
        status, session, _ = self.client.call(
            "POST", "/api/auth/login", body={"email": email, "password": password}
        )
        if status == 401:
            self.client.expect(
                201,
                "POST",
                "/api/auth/register",
                body={"email": email, "password": password, "display_name": "smoke test"},
            )
            session, _ = self.client.expect(
                200, "POST", "/api/auth/login", body={"email": email, "password": password}
            )
        elif status != 200:
            raise SmokeFailure(f"sign-in: {status}: {session}")
        refresh = session["refresh_token"]
        self.undo("sign out", (204,), "POST", "/api/auth/logout", body={"refresh_token": refresh})
        self.check(f"signed in as {email}")
        return session["access_token"]

    def own_product(self):
        email = os.environ.get("SMOKE_ADMIN_EMAIL")
        password = os.environ.get("SMOKE_ADMIN_PASSWORD")
        if not (email and password):
            return None, None
        session, _ = self.client.expect(
            200, "POST", "/api/auth/login", body={"email": email, "password": password}
        )
        admin = session["access_token"]
        sku = "SMOKE-" + secrets.token_hex(5).upper()
        product, _ = self.client.expect(
            201,
            "POST",
            "/api/products",
            token=admin,
            body={"sku": sku, "name": f"Smoke test {sku}", "price_minor": 100, "currency": "EUR", "stock": 1},
        )
        product_id = product["id"]
        self.undo("delete the product", (204,), "DELETE", f"/api/products/{product_id}", token=admin)
        self.check(f"created product {sku} (stock 1)")
        return product, admin

    def product_in_stock(self):
        page, _ = self.client.expect(200, "GET", "/api/products?limit=50&sort=newest")
        items = (page or {}).get("items")
        self.check("catalog answers", isinstance(items, list), f"no item list: {page}")
        for item in items:
            if item.get("stock", 0) >= 1:
                return item
        raise SmokeFailure(
            "no product in stock to buy among the newest 50: set SMOKE_ADMIN_EMAIL and "
            "SMOKE_ADMIN_PASSWORD to let the smoke test bring its own"
        )

    def run(self, wait, revision):
        self.wait_until_serving(wait, revision)
        doc, _ = self.client.expect(200, "GET", "/openapi.json")
        self.check("/openapi.json", bool((doc or {}).get("paths")), "no paths")
        own, admin = self.own_product()
        product = own or self.product_in_stock()
        product_id = product["id"]
        token = self.customer()
        self.undo("empty the cart", (200, 204), "DELETE", "/api/cart", token=token)
        self.client.expect(
            (200, 201),
            "POST",
            "/api/cart/items",
            token=token,
            body={"product_id": product_id, "quantity": 1},
        )
        self.check(f"one unit of {product.get('sku', product_id)} in the cart")

        key = "smoke-" + secrets.token_hex(8)
        first, _ = self.client.expect(
            201, "POST", "/api/checkout", token=token, body={}, headers={"idempotency-key": key}
        )
        order_id = first["id"]
        # 409 once the run has cancelled it itself.
        self.undo("cancel the order", (200, 409), "POST", f"/api/orders/{order_id}/cancel", token=token)
        again, _ = self.client.expect(
            200, "POST", "/api/checkout", token=token, body={}, headers={"idempotency-key": key}
        )
        self.check(
            f"checkout placed order {order_id}, and the same key replays it",
            again.get("id") == order_id,
            f"the replay answered order {again.get('id')}",
        )
        order, _ = self.client.expect(200, "GET", f"/api/orders/{order_id}", token=token)
        self.check("the order is visible", order.get("status") == "pending", f"status {order.get('status')}")
        listed, _ = self.client.expect(200, "GET", "/api/orders?limit=20", token=token)
        ids = [o.get("id") for o in (listed or {}).get("items", [])]
        self.check("the order is listed", order_id in ids, f"not among {ids}")
        cancelled, _ = self.client.expect(200, "POST", f"/api/orders/{order_id}/cancel", token=token)
        self.check(
            "the order is cancelled",
            cancelled.get("status") == "cancelled",
            f"status {cancelled.get('status')}",
        )
        if own:
            now, _ = self.client.expect(200, "GET", f"/api/products/{product_id}", token=admin)
            self.check("its stock is back", now.get("stock") == 1, f"stock {now.get('stock')}")

    def undo(self, what, ok_statuses, method, path, **kwargs):
        """Registers a clean-up request, run last-in first-out by clean_up."""
        self.cleanups.append((what, ok_statuses, method, path, kwargs))

    def clean_up(self):
        for what, ok_statuses, method, path, kwargs in reversed(self.cleanups):
            try:
                status, body, _ = self.client.call(method, path, **kwargs)
                if status not in ok_statuses:
                    print(f"note: clean-up '{what}' answered {status}: {body}", file=sys.stderr)
            except OSError as error:
                print(f"note: clean-up '{what}' failed: {error}", file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base_url", help="where the shop answers, e.g. https://shop.example.com")
    parser.add_argument("--expect-revision", default=os.environ.get("SMOKE_EXPECT_REVISION"),
                        help="wait until /health reports this build revision")
    parser.add_argument("--wait", type=int, default=int(os.environ.get("SMOKE_WAIT_SECS", "180")),
                        help="seconds to wait for the shop to serve (default 180)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
    args = parser.parse_args()
    smoke = Smoke(Client(args.base_url, args.timeout))
    started = time.monotonic()
    try:
        smoke.run(args.wait, args.expect_revision)
    except (SmokeFailure, OSError, KeyError, TypeError) as error:
        print(f"FAIL {error}", flush=True)
        smoke.clean_up()
        print(f"smoke: FAILED against {args.base_url} after {smoke.passed} checks")
        return 1
    smoke.clean_up()
    print(f"smoke: {smoke.passed} checks passed against {args.base_url} "
          f"in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
