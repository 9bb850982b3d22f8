"""A local S3 for the tests: ``moto`` in server mode, checking every request's signature.

:func:`start_s3_emulator` starts moto's server on a free port of 127.0.0.1, creates an IAM user
allowed every S3 action and an access key for it, then switches moto's authentication
on: from then on a request signed with any other key, or with the right key and a wrong
secret, is refused (403), as S3 would. The secret is moto's own (40 random characters, a
new one per emulator), so it doubles as a canary that no log or file may contain.

Any unmodified S3 client reaches it through its endpoint URL::

    with start_s3_emulator() as s3:
        s3.client().create_bucket(Bucket="exports")
        # tap, target or boto3 with endpoint_url=s3.url, s3.access_key_id, s3.secret_access_key

The pytest fixture ``s3_emulator`` (tests/integration/conftest.py) yields one per test.
moto keeps its state, and the authentication switch, per process: a test uses one
emulator at a time, and the emulator is emptied and switched back to open on exit.
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

REGION = "us-east-1"
USER = "integrations-tests"
_ALLOW_S3 = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
}


@dataclass(frozen=True)
class S3Emulator:
    """A running emulator: its endpoint and the one key it accepts."""

    url: str
    access_key_id: str
    secret_access_key: str = ""
    region: str = REGION

    def client(self, **overrides: Any) -> Any:
        """A boto3 S3 client signed with the emulator's key (``overrides``: e.g. another
        ``aws_secret_access_key``)."""
        import boto3

        options: dict[str, Any] = {
            "endpoint_url": self.url,
            "region_name": self.region,
            "aws_access_key_id": self.access_key_id,
            "aws_secret_access_key": self.secret_access_key,
            **overrides,
        }
        return boto3.client("s3", **options)

    def put(self, bucket: str, key: str, body: bytes | str) -> None:
        """Write one object (created or replaced)."""
        data = body.encode() if isinstance(body, str) else body
        self.client().put_object(Bucket=bucket, Key=key, Body=data)

    def __repr__(self) -> str:  # the secret stays out of pytest's reports
        return f"S3Emulator(url={self.url!r})"


def _set_authentication(url: str, on: bool) -> None:
    # moto's own switch: authentication applies after this many unauthenticated requests.
    response = httpx.post(f"{url}/moto-api/reset-auth", content=b"0" if on else b"inf")
    response.raise_for_status()


@contextmanager
def start_s3_emulator(*, authenticate: bool = True) -> Iterator[S3Emulator]:
    """A fresh emulator on a free port, its key created; ``authenticate=False`` leaves
    moto open (any key and secret are accepted)."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    try:
        iam = boto3.client(
            "iam",
            endpoint_url=url,
            region_name=REGION,
            aws_access_key_id="emulator-setup",
            aws_secret_access_key="emulator-setup",  # noqa: S106 - moto is open until set up
        )
        iam.create_user(UserName=USER)
        iam.put_user_policy(
            UserName=USER, PolicyName="s3-all", PolicyDocument=json.dumps(_ALLOW_S3)
        )
        key = iam.create_access_key(UserName=USER)["AccessKey"]
        if authenticate:
            _set_authentication(url, on=True)
        yield S3Emulator(url, key["AccessKeyId"], key["SecretAccessKey"])
    finally:
        try:
            _set_authentication(url, on=False)
            httpx.post(f"{url}/moto-api/reset").raise_for_status()
        finally:
            server.stop()
