"""Where the boto3 on `sys.path` sends a DynamoDB request, and how it signs it, region by region.

`tests/integration/test_sam_build.py` runs this with the built layer's SDK (endpoint data
pruned) and compares with the development environment's (full): nothing leaves the machine,
the request is caught after signing.

`main(regions)` prints `{"botocore": <its file>, "requests": {"region": [url, scope], ...}}`.
"""

import json

import boto3
import botocore
from botocore.awsrequest import AWSPreparedRequest


class _Signed(Exception):
    """Carries a signed request out of botocore instead of sending it."""

    def __init__(self, request: AWSPreparedRequest) -> None:
        super().__init__(request.url)
        self.request = request


def _stop_before_sending(request: AWSPreparedRequest, **_: object) -> None:
    raise _Signed(request)


def signed_dynamodb_request(session: boto3.session.Session, region: str) -> tuple[str, str]:
    """The URL of a ListTables request in `region`, and its credential scope (region/service)."""
    client = session.client("dynamodb", region_name=region)
    client.meta.events.register("before-send", _stop_before_sending)
    try:
        client.list_tables()
    except _Signed as signed:
        authorization = signed.request.headers["Authorization"]
        text = authorization.decode() if isinstance(authorization, bytes) else authorization
        credential = text.split("Credential=", 1)[1].split(",", 1)[0]
        return str(signed.request.url), credential.split("/", 2)[2]
    raise AssertionError("the request was sent")


def main(regions: list[str]) -> None:
    # One session (its loaded endpoint and service data) for a client per region, as a function's
    # code would hold one; the region is the client's.
    session = boto3.session.Session(aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="x")
    requests = {region: signed_dynamodb_request(session, region) for region in regions}
    print(json.dumps({"botocore": botocore.__file__, "requests": requests}))
