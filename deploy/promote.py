#!/usr/bin/env python3
"""Moves an environment to an image, or back: the pipeline's only way of changing what runs.

    deploy/promote.py pin ENV IMAGE DIGEST [--revision SHA]
        Pins ENV's overlay (deploy/k8s/overlays/ENV) to IMAGE@DIGEST, commits (recording
        SHA, the image's source revision, as a trailer) and pushes. Prints `commit=...` for
        $GITHUB_OUTPUT (empty when ENV already ran that image).
    deploy/promote.py rollback ENV COMMIT
        Reverts COMMIT (a pin of ENV) and pushes: ArgoCD puts the previous image back.
    deploy/promote.py current ENV
        Prints what ENV's overlay pins (image, digest or tag).

Where: this repository (the working tree it runs in), or — when MANIFESTS_REPO is set (a git
URL the job can push to) — a clone of that repository, at MANIFESTS_PATH (default
deploy/k8s/overlays) inside it: the seed's separate manifests repository.

Pushing retries on a race (another pipeline's commit landed first): fetch, rebase, push, up to
five times. A commit touches only its environment's overlay, so rebases never conflict.
Python's standard library and git only.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

IMAGE_NAME = "shop/reference-app"
ENVIRONMENTS = ("dev", "staging", "prod")
TRAILER = "Deployed-Revision"


def git(repo, *args, capture=True):
    result = subprocess.run(
        ["git", "-C", repo, *args], check=True, text=True, capture_output=capture
    )
    return result.stdout.strip() if capture else ""


def overlay_file(repo, env):
    base = os.environ.get("MANIFESTS_PATH", "deploy/k8s/overlays")
    return os.path.join(repo, base, env, "kustomization.yaml")


def images_block(image, digest):
    return (
        "images:\n"
        f"  - name: {IMAGE_NAME}\n"
        f"    newName: {image}\n"
        f"    digest: {digest}\n"
    )


def replace_images(text, block):
    """The overlay with its top-level `images:` list replaced by `block` (added if absent)."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == "images:"), None)
    if start is None:
        return text.rstrip("\n") + "\n" + block
    end = start + 1
    while end < len(lines) and (lines[end].startswith((" ", "\t", "-")) or not lines[end].strip()):
        end += 1
    return "".join(lines[:start]) + block + "".join(lines[end:])


def pinned(text):
    """(image, digest or tag) the overlay pins, from its `images:` entry."""
    name = re.search(r"^\s+newName:\s*(\S+)", text, re.M)
    digest = re.search(r"^\s+digest:\s*(\S+)", text, re.M)
    tag = re.search(r"^\s+newTag:\s*\"?([^\"\s]+)", text, re.M)
    return (
        name.group(1) if name else None,
        digest.group(1) if digest else (tag.group(1) if tag else None),
    )


def push(repo):
    branch = git(repo, "rev-parse", "--abbrev-ref", "HEAD")
    for attempt in range(1, 6):
        try:
            git(repo, "push", "origin", f"HEAD:{branch}")
            return
        except subprocess.CalledProcessError as error:
            if attempt == 5:
                raise SystemExit(f"error: push failed five times: {error.stderr.strip()}")
            print(f"push refused (attempt {attempt}): rebasing on origin/{branch}", file=sys.stderr)
            time.sleep(attempt)
            git(repo, "fetch", "origin", branch)
            git(repo, "rebase", f"origin/{branch}")


def working_repo():
    """This repository, or a fresh clone of MANIFESTS_REPO."""
    remote = os.environ.get("MANIFESTS_REPO")
    if not remote:
        return git(".", "rev-parse", "--show-toplevel")
    clone = tempfile.mkdtemp(prefix="manifests-")
    branch = os.environ.get("MANIFESTS_BRANCH", "main")
    subprocess.run(
        ["git", "clone", "--quiet", "--branch", branch, remote, clone], check=True
    )
    return clone


def identity(repo):
    if not subprocess.run(["git", "-C", repo, "config", "user.email"], capture_output=True).stdout:
        git(repo, "config", "user.name", os.environ.get("GIT_AUTHOR_NAME", "shop pipeline"))
        git(repo, "config", "user.email", os.environ.get("GIT_AUTHOR_EMAIL", "pipeline@users.noreply.github.com"))


def pin(env, image, digest, revision):
    if not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
        raise SystemExit(f"error: {digest!r} is not a sha256 digest")
    repo = working_repo()
    identity(repo)
    path = overlay_file(repo, env)
    with open(path, encoding="utf-8") as f:
        before = f.read()
    after = replace_images(before, images_block(image, digest))
    if after == before:
        print(f"{env} already runs {image}@{digest}", file=sys.stderr)
        print("commit=")
        return
    with open(path, "w", encoding="utf-8") as f:
        f.write(after)
    short = (revision or digest.split(":")[1])[:12]
    message = (
        f"deploy({env}): reference-app {short}\n\n"
        f"Pins {env} to {image}@{digest}.\n\n"
        f"Environment: {env}\n"
        f"{TRAILER}: {revision or ''}\n"
        "[skip ci]\n"
    )
    git(repo, "add", path)
    git(repo, "commit", "--quiet", "-m", message)
    push(repo)
    commit = git(repo, "rev-parse", "HEAD")
    print(f"pinned {env} to {image}@{digest} in {commit}", file=sys.stderr)
    print(f"commit={commit}")


def rollback(env, commit):
    repo = working_repo()
    identity(repo)
    path = os.path.relpath(overlay_file(repo, env), repo)
    touched = git(repo, "show", "--name-only", "--format=", commit).split()
    if touched != [path]:
        raise SystemExit(f"error: {commit} is not a pin of {env} (it touches {touched})")
    git(repo, "revert", "--no-edit", commit)
    push(repo)
    print(f"reverted {commit}: {env} goes back to the image it ran before", file=sys.stderr)
    print(f"commit={git(repo, 'rev-parse', 'HEAD')}")


def current(env):
    repo = working_repo()
    path = overlay_file(repo, env)
    with open(path, encoding="utf-8") as f:
        image, digest = pinned(f.read())
    print(f"image={image}\ndigest={digest}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("pin", help="pin ENV to IMAGE@DIGEST, commit and push")
    p.add_argument("env", choices=ENVIRONMENTS)
    p.add_argument("image")
    p.add_argument("digest")
    p.add_argument("--revision", help="the source commit the image was built from")
    r = commands.add_parser("rollback", help="revert a pin commit and push")
    r.add_argument("env", choices=ENVIRONMENTS)
    r.add_argument("commit")
    c = commands.add_parser("current", help="what ENV pins")
    c.add_argument("env", choices=ENVIRONMENTS)
    args = parser.parse_args()
    if args.command == "pin":
        pin(args.env, args.image, args.digest, args.revision)
    elif args.command == "rollback":
        rollback(args.env, args.commit)
    else:
        current(args.env)


if __name__ == "__main__":
    main()
