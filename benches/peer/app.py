"""The peer: the shop's hot endpoints as the FastAPI services this project replaces wrote them.

FastAPI + async SQLAlchemy 2 (ORM) + aiomysql, written plainly: ORM models, one session per
request, `SELECT ... FOR UPDATE` in checkout. Same endpoints, request and response shapes as
the reference app for what the comparison drives (`benches/peer.sh`):

    POST /api/auth/register, POST /api/auth/login       (setup, not timed)
    POST /api/products (admin)                          (setup)
    GET  /api/products/{id}, GET /api/products?q=&limit=
    POST /api/cart/items, POST /api/checkout (Idempotency-Key)

Same schema ideas: UUID keys, money in integer minor units, stock never below zero, one order
per (user, idempotency key) with the request's fingerprint, the cart cleared in the checkout
transaction. It does not try to be the reference app (no outbox, reviews, admin console).
Authentication trusts the signed token's claims, as the reference app does, rather than
reading the user per request: the comparison is about the request path, not a strawman.

Configuration: PEER_DATABASE_URL (mysql+aiomysql://...), PEER_POOL_SIZE (per worker, 8),
PEER_ADMIN_PASSWORD (admin@shop.local), PEER_JWT_SECRET.
"""

import datetime as dt
import hashlib
import hmac
import os
import secrets
import uuid

import jwt
from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    delete,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

DATABASE_URL = os.environ["PEER_DATABASE_URL"]
SECRET = os.environ.get("PEER_JWT_SECRET", "peer secret, thirty-two bytes or more")
ADMIN_EMAIL = "admin@shop.local"

engine = create_async_engine(
    DATABASE_URL,
    pool_size=int(os.environ.get("PEER_POOL_SIZE", "8")),
    max_overflow=0,
    isolation_level="READ COMMITTED",
)
Session = async_sessionmaker(engine, expire_on_commit=False)


class Base(DeclarativeBase):
    pass


def new_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class User(Base):
    __tablename__ = "users"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)


class Product(Base):
    __tablename__ = "products"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    description: Mapped[str] = mapped_column(String(2000), default="")
    price_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    stock: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


class CartLine(Base):
    __tablename__ = "cart_lines"
    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    product_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer)


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(36), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    total_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    lines: Mapped[list["OrderLine"]] = relationship(lazy="selectin")


class OrderLine(Base):
    __tablename__ = "order_lines"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"))
    product_id: Mapped[str] = mapped_column(String(36))
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(Integer)
    line_total_minor: Mapped[int] = mapped_column(BigInteger)


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"
    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"))
    fingerprint: Mapped[str] = mapped_column(String(64))


def hash_password(password: str) -> str:
    salt = secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 100_000)
    return f"{salt}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    salt, digest = stored.split("$", 1)
    again = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 100_000)
    return hmac.compare_digest(again.hex(), digest)


app = FastAPI(title="peer shop")


@app.on_event("startup")
async def startup() -> None:
    # Two workers start at once; creating what exists already is harmless to retry.
    for _ in range(5):
        try:
            async with engine.begin() as conn:
                await conn.run_sync(Base.metadata.create_all)
            break
        except Exception:  # noqa: BLE001 - the other worker won the race
            continue
    password = os.environ.get("PEER_ADMIN_PASSWORD")
    if password:
        async with Session() as s:
            try:
                async with s.begin():
                    s.add(
                        User(
                            email=ADMIN_EMAIL,
                            display_name="Admin",
                            password_hash=hash_password(password),
                            is_admin=True,
                        )
                    )
            except IntegrityError:
                pass


class Claims(BaseModel):
    sub: str
    admin: bool


def current_user(authorization: str = Header(default="")) -> Claims:
    if not authorization.startswith("Bearer "):
        raise HTTPException(401, "sign in first")
    try:
        payload = jwt.decode(authorization[7:], SECRET, algorithms=["HS256"])
    except jwt.PyJWTError:
        raise HTTPException(401, "invalid token") from None
    return Claims(sub=payload["sub"], admin=payload.get("admin", False))


class Register(BaseModel):
    email: str
    password: str
    display_name: str


class Login(BaseModel):
    email: str
    password: str


@app.post("/api/auth/register", status_code=201)
async def register(body: Register):
    async with Session() as s:
        try:
            async with s.begin():
                user = User(
                    email=body.email.lower(),
                    display_name=body.display_name,
                    password_hash=hash_password(body.password),
                )
                s.add(user)
        except IntegrityError:
            raise HTTPException(409, "email taken") from None
    return {"id": user.id, "email": user.email, "display_name": user.display_name}


@app.post("/api/auth/login")
async def login(body: Login):
    async with Session() as s:
        user = (
            await s.execute(select(User).where(User.email == body.email.lower()))
        ).scalar_one_or_none()
    if user is None or not check_password(body.password, user.password_hash):
        raise HTTPException(401, "wrong email or password")
    exp = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=15)
    token = jwt.encode({"sub": user.id, "admin": user.is_admin, "exp": exp}, SECRET, "HS256")
    return {"access_token": token, "token_type": "Bearer"}


class ProductIn(BaseModel):
    sku: str
    name: str
    description: str = ""
    price_minor: int
    currency: str
    stock: int = 0
    active: bool = True


def product_json(p: Product) -> dict:
    return {
        "id": p.id,
        "sku": p.sku,
        "name": p.name,
        "description": p.description,
        "price": {"minor": p.price_minor, "currency": p.currency},
        "stock": p.stock,
        "active": p.active,
        "created_at": p.created_at.isoformat() + "Z",
    }


@app.post("/api/products", status_code=201)
async def create_product(body: ProductIn, user: Claims = Depends(current_user)):
    if not user.admin:
        raise HTTPException(403, "admins only")
    async with Session() as s:
        try:
            async with s.begin():
                p = Product(**body.model_dump())
                s.add(p)
        except IntegrityError:
            raise HTTPException(409, "sku taken") from None
    return product_json(p)


@app.get("/api/products/{product_id}")
async def get_product(product_id: str):
    async with Session() as s:
        p = await s.get(Product, product_id)
    if p is None:
        raise HTTPException(404, "no such product")
    return product_json(p)


@app.get("/api/products")
async def list_products(q: str = "", limit: int = 20):
    limit = max(1, min(limit, 100))
    query = select(Product).where(Product.active.is_(True))
    if q:
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Product.name.ilike(f"%{escaped}%"))
    query = query.order_by(Product.created_at.desc(), Product.id.desc()).limit(limit)
    async with Session() as s:
        items = (await s.execute(query)).scalars().all()
    return {"items": [product_json(p) for p in items], "next": None}


class CartItem(BaseModel):
    product_id: str
    quantity: int


@app.post("/api/cart/items")
async def add_to_cart(body: CartItem, user: Claims = Depends(current_user)):
    if not 1 <= body.quantity <= 999:
        raise HTTPException(422, "quantity must be 1 to 999")
    async with Session() as s:
        async with s.begin():
            if await s.get(Product, body.product_id) is None:
                raise HTTPException(404, "no such product")
            line = await s.get(CartLine, (user.sub, body.product_id), with_for_update=True)
            if line is None:
                s.add(CartLine(user_id=user.sub, product_id=body.product_id, quantity=body.quantity))
            else:
                line.quantity += body.quantity
        lines = (
            await s.execute(select(CartLine).where(CartLine.user_id == user.sub))
        ).scalars().all()
    return {"lines": [{"product_id": l.product_id, "quantity": l.quantity} for l in lines]}


def order_json(o: Order) -> dict:
    return {
        "id": o.id,
        "user_id": o.user_id,
        "status": o.status,
        "total": {"minor": o.total_minor, "currency": o.currency},
        "lines": [
            {
                "product_id": l.product_id,
                "sku": l.sku,
                "name": l.name,
                "unit_price": {"minor": l.unit_price_minor, "currency": o.currency},
                "quantity": l.quantity,
                "line_total": {"minor": l.line_total_minor, "currency": o.currency},
            }
            for l in o.lines
        ],
        "created_at": o.created_at.isoformat() + "Z",
    }


@app.post("/api/checkout", status_code=201)
async def checkout(
    request: Request,
    user: Claims = Depends(current_user),
    idempotency_key: str = Header(),
):
    fingerprint = hashlib.sha256(await request.body()).hexdigest()
    async with Session() as s:
        async with s.begin():
            seen = await s.get(IdempotencyKey, (user.sub, idempotency_key))
            if seen is not None:
                if seen.fingerprint != fingerprint:
                    raise HTTPException(409, "idempotency key reused")
                order = await s.get(Order, seen.order_id)
                return JSONResponse(order_json(order), status_code=200)
            lines = (
                await s.execute(
                    select(CartLine).where(CartLine.user_id == user.sub).with_for_update()
                )
            ).scalars().all()
            if not lines:
                raise HTTPException(422, "the cart is empty")
            products = {
                p.id: p
                for p in (
                    await s.execute(
                        select(Product)
                        .where(Product.id.in_([l.product_id for l in lines]))
                        .order_by(Product.id)
                        .with_for_update()
                    )
                ).scalars()
            }
            order = Order(id=new_id(), user_id=user.sub, total_minor=0, currency="")
            for line in lines:
                p = products.get(line.product_id)
                if p is None or not p.active:
                    raise HTTPException(409, "product unavailable")
                if p.stock < line.quantity:
                    raise HTTPException(409, "insufficient stock")
                if order.currency and order.currency != p.currency:
                    raise HTTPException(422, "currency mismatch")
                order.currency = p.currency
                p.stock -= line.quantity
                total = p.price_minor * line.quantity
                order.total_minor += total
                order.lines.append(
                    OrderLine(
                        product_id=p.id,
                        sku=p.sku,
                        name=p.name,
                        unit_price_minor=p.price_minor,
                        quantity=line.quantity,
                        line_total_minor=total,
                    )
                )
            s.add(order)
            await s.flush()
            s.add(IdempotencyKey(user_id=user.sub, key=idempotency_key, order_id=order.id, fingerprint=fingerprint))
            await s.execute(delete(CartLine).where(CartLine.user_id == user.sub))
    return order_json(order)
