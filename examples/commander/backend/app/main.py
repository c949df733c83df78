"""commander.ai API: conversations stored in PostgreSQL."""
import json
import os
import urllib.request

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import SQLAlchemyError

from .db import Session, engine
from .models import Conversation

app = FastAPI(title="commander.ai")


class NewConversation(BaseModel):
    title: str
    summary: str = None


@app.get("/health")
def health():
    """Healthy only when the database answers and the migration has run."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        migrated = inspect(engine).has_table("conversations")
    except SQLAlchemyError as err:
        raise HTTPException(status_code=503, detail="database unreachable: %s" % err.__class__.__name__)
    if not migrated:
        raise HTTPException(status_code=503, detail="database not migrated: run alembic upgrade head")
    return {"status": "healthy", "database": engine.dialect.name, "environment": os.environ.get("ENVIRONMENT", "local")}


@app.get("/vectors")
def vectors():
    """The vector store's collections, asked through QDRANT_URL (the internal qdrant service)."""
    url = os.environ.get("QDRANT_URL")
    if not url:
        raise HTTPException(status_code=503, detail="QDRANT_URL is not set")
    try:
        with urllib.request.urlopen(url + "/collections", timeout=5) as answer:
            return {"qdrant": url, "answer": json.load(answer)}
    except (OSError, ValueError) as err:
        raise HTTPException(status_code=503, detail="qdrant unreachable at %s: %s" % (url, err))


@app.post("/conversations", status_code=201)
def create_conversation(body: NewConversation):
    if not body.title.strip():
        raise HTTPException(status_code=422, detail="title must not be empty")
    with Session() as session:
        conv = Conversation(title=body.title.strip(), summary=body.summary)
        session.add(conv)
        session.commit()
        return conv.as_dict()


@app.get("/conversations")
def list_conversations():
    with Session() as session:
        return [c.as_dict() for c in session.scalars(select(Conversation).order_by(Conversation.id))]
