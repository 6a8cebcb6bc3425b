"""Each infrastructure fixture gives a working service that this test run has to itself."""

from __future__ import annotations

import io
import smtplib
import uuid
from email.message import EmailMessage
from urllib.parse import parse_qs, urlsplit

import minio
import pika
import pytest
import sqlalchemy
from pika.exceptions import ChannelClosedByBroker

from tests.services import SmtpServer

pytestmark = pytest.mark.integration


def test_postgres_url_is_a_fresh_database_that_accepts_tables(postgres_url: str) -> None:
    engine = sqlalchemy.create_engine(postgres_url)
    try:
        with engine.begin() as conn:
            conn.execute(sqlalchemy.text("CREATE TABLE probe (id int PRIMARY KEY, name text)"))
            conn.execute(sqlalchemy.text("INSERT INTO probe VALUES (1, 'pony')"))
        with engine.connect() as conn:
            assert conn.execute(sqlalchemy.text("SELECT name FROM probe")).scalar_one() == "pony"
            database = conn.execute(sqlalchemy.text("SELECT current_database()")).scalar_one()
    finally:
        engine.dispose()
    assert database.startswith("pony_test_")
    assert database == urlsplit(postgres_url).path.lstrip("/")


def test_amqp_url_is_a_private_vhost_that_carries_messages(amqp_url: str) -> None:
    queue = f"probe-{uuid.uuid4().hex}"
    with pika.BlockingConnection(pika.URLParameters(amqp_url)) as connection:
        channel = connection.channel()
        channel.queue_declare(queue, auto_delete=False)
        channel.basic_publish(exchange="", routing_key=queue, body=b"hello")
        _, _, body = channel.basic_get(queue, auto_ack=True)
        assert body == b"hello"
        channel.basic_publish(exchange="", routing_key=queue, body=b"left behind")

    default_vhost = amqp_url.rsplit("/", 1)[0] + "/%2F"
    with pika.BlockingConnection(pika.URLParameters(default_vhost)) as connection:
        with pytest.raises(ChannelClosedByBroker) as excinfo:
            connection.channel().queue_declare(queue, passive=True)
        assert excinfo.value.reply_code == 404


def test_s3_url_points_at_a_server_that_stores_objects(s3_url: str) -> None:
    url = urlsplit(s3_url)
    assert url.scheme == "s3"
    assert parse_qs(url.query) == {"secure": ["false"]}
    assert url.username and url.password and url.hostname and url.port
    bucket = url.path.lstrip("/")
    client = minio.Minio(
        f"{url.hostname}:{url.port}", access_key=url.username, secret_key=url.password, secure=False
    )
    if not client.bucket_exists(bucket):  # the service may have made it already this session
        client.make_bucket(bucket)
    client.put_object(bucket, "probe/hello.txt", io.BytesIO(b"hello pony"), length=10)
    response = client.get_object(bucket, "probe/hello.txt")
    try:
        assert response.read() == b"hello pony"
    finally:
        response.close()
        response.release_conn()


def test_smtp_server_keeps_the_mail_it_receives(smtp_server: SmtpServer) -> None:
    assert smtp_server.url == f"smtp://127.0.0.1:{smtp_server.port}"
    message = EmailMessage()
    message["From"] = "pony@localhost"
    message["To"] = "someone@example.com"
    message["Subject"] = "Your job succeeded (services check)"
    message.set_content("All outputs are ready.")
    before = len(smtp_server.messages)  # the server is shared with the session's other tests
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=10) as client:
        client.send_message(message)

    arrived = smtp_server.wait_for_messages(before + 1)[before:]
    (received,) = [m for m in arrived if "services check" in m["Subject"]]
    assert received["To"] == "someone@example.com"
    assert received.get_content().strip() == "All outputs are ready."
