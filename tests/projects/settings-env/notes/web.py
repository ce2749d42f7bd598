"""Notes kept in a SQLite database named by DATABASE_URL."""

import os
import sqlite3

from flask import Flask, jsonify, request


def _database_path(url: str) -> str:
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        raise ValueError(f"DATABASE_URL must be a {prefix}PATH URL, got {url!r}")
    return url[len(prefix) :]


def create_app() -> Flask:
    # Both settings are required: a missing one stops the app before it serves anything.
    database = _database_path(os.environ["DATABASE_URL"])
    app = Flask(__name__)
    app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT)")

    @app.get("/health")
    def health():
        with sqlite3.connect(database) as connection:
            (count,) = connection.execute("SELECT COUNT(*) FROM notes").fetchone()
        return jsonify(status="ok", notes=count)

    @app.post("/notes")
    def add_note():
        body = (request.get_json(silent=True) or {}).get("body", "")
        with sqlite3.connect(database) as connection:
            cursor = connection.execute("INSERT INTO notes (body) VALUES (?)", (body,))
        return jsonify(id=cursor.lastrowid), 201

    return app
