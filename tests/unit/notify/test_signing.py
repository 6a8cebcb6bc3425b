import base64
import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from pipeline.db.repository import new_webhook_secret
from pipeline.notify.signing import secret_key, sign, signature_header

BODY = b'{"type":"job.succeeded","data":{"id":"job_1"}}'


def headers(msg_id: str, timestamp: int, signature: str) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature,
    }


def test_a_signature_verifies_with_the_standard_webhooks_library():
    secret, stamp = new_webhook_secret(), int(time.time())
    signature = sign(secret, "msg_1", stamp, BODY)
    assert signature.startswith("v1,")
    assert Webhook(secret).verify(BODY, headers("msg_1", stamp, signature))["data"]["id"] == "job_1"


def test_the_signature_matches_the_specifications_example():
    # The example of the Standard Webhooks specification (spec/standard-webhooks.md).
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    assert (
        sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
        == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


def test_a_changed_body_id_or_timestamp_does_not_verify():
    secret, stamp = new_webhook_secret(), int(time.time())
    signature = sign(secret, "msg_1", stamp, BODY)
    for body, msg_id, moment in [
        (BODY + b" ", "msg_1", stamp),
        (BODY, "msg_2", stamp),
        (BODY, "msg_1", stamp + 1),
    ]:
        with pytest.raises(WebhookVerificationError):
            Webhook(secret).verify(body, headers(msg_id, moment, signature))


def test_during_a_rotation_both_secrets_sign_and_either_verifies():
    new, old, stamp = new_webhook_secret(), new_webhook_secret(), int(time.time())
    header = signature_header([new, old], "msg_1", stamp, BODY)
    assert len(header.split(" ")) == 2
    assert header.split(" ")[0] == sign(new, "msg_1", stamp, BODY)
    for secret in (new, old):
        Webhook(secret).verify(BODY, headers("msg_1", stamp, header))
    with pytest.raises(WebhookVerificationError):
        Webhook(new_webhook_secret()).verify(BODY, headers("msg_1", stamp, header))


def test_a_secret_is_its_base64_bytes_with_or_without_prefix_and_padding():
    key = b"0123456789abcdefghij"
    encoded = base64.b64encode(key).decode()
    assert secret_key(f"whsec_{encoded}") == key
    assert secret_key(encoded) == key
    assert secret_key("whsec_" + encoded.rstrip("=")) == key


def test_a_secret_that_is_not_base64_or_empty_is_refused():
    for bad in ("whsec_", "whsec_not base64!"):
        with pytest.raises(ValueError):
            secret_key(bad)
    with pytest.raises(ValueError):
        signature_header([], "msg_1", 1, BODY)
