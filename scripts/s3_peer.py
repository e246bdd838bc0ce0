#!/usr/bin/env python3
"""The S3 blob store's independent peer in its tests (pinned in .build-s3-venv by
scripts/lib/s3-moto.sh):

  s3_peer.py bootstrap ENDPOINT BUCKET
      On a moto server started with INITIAL_NO_AUTH_ACTION_COUNT=3, spends the three
      unauthenticated actions on an IAM user, an inline policy allowing s3:* and an access key
      (moto checks every later request's SigV4 signature against that key, moto/core/
      authorization.py), then creates BUCKET signed with the new key. Prints
      "ACCESS_KEY_ID SECRET_ACCESS_KEY".

  s3_peer.py sign
      Reads JSON requests on stdin, one a line: {"method", "url", "headers": [[name, value]],
      "payload_sha256", "access_key", "secret_key", "session_token"?, "region", "service",
      "amz_date"} and prints, for each, one line with the Authorization header botocore's
      SigV4Auth (S3SigV4Auth for service "s3", the rules S3 itself applies: no double
      encoding of the path, no path normalisation) computes for it.
"""
import json
import sys

import boto3
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def bootstrap(endpoint: str, bucket: str) -> None:
    # The unauthenticated window: any credentials will do for these three calls.
    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
    iam.create_user(UserName="fhe-jobs-test")
    iam.put_user_policy(UserName="fhe-jobs-test", PolicyName="s3-all", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
    }))
    key = iam.create_access_key(UserName="fhe-jobs-test")["AccessKey"]
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                      aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
    s3.create_bucket(Bucket=bucket)
    # A wrong key must be refused now, or the tests would prove nothing about signatures.
    wrong = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                         aws_access_key_id=key["AccessKeyId"], aws_secret_access_key="not-the-secret")
    try:
        wrong.list_objects_v2(Bucket=bucket)
    except Exception as error:  # botocore.exceptions.ClientError: SignatureDoesNotMatch
        if "SignatureDoesNotMatch" not in str(error):
            raise
    else:
        raise SystemExit("the S3 test server accepted a wrong signature: authentication is off")
    print(key["AccessKeyId"], key["SecretAccessKey"])


def sign(line: str) -> str:
    r = json.loads(line)
    credentials = Credentials(r["access_key"], r["secret_key"], r.get("session_token"))
    cls = S3SigV4Auth if r["service"] == "s3" else SigV4Auth
    auth = cls(credentials, r["service"], r["region"])
    request = AWSRequest(method=r["method"], url=r["url"])
    for name, value in r["headers"]:
        request.headers[name] = value  # HTTPHeaders keeps repeated names, as sent
    if "X-Amz-Content-SHA256" not in request.headers:
        request.headers["X-Amz-Content-SHA256"] = r["payload_sha256"]
    request.context["timestamp"] = r["amz_date"]
    # add_auth() would stamp the current time; the pieces below are what it does with a given one
    # (botocore/auth.py, SigV4Auth.add_auth).
    request.headers["X-Amz-Date"] = r["amz_date"]
    if credentials.token:
        request.headers["X-Amz-Security-Token"] = credentials.token
    canonical_request = auth.canonical_request(request)
    string_to_sign = auth.string_to_sign(request, canonical_request)
    signature = auth.signature(string_to_sign, request)
    return ", ".join([
        f"AWS4-HMAC-SHA256 Credential={auth.scope(request)}",
        f"SignedHeaders={auth.signed_headers(auth.headers_to_sign(request))}",
        f"Signature={signature}",
    ])


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "bootstrap":
        bootstrap(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 2 and sys.argv[1] == "sign":
        for line in sys.stdin:
            if line.strip():
                print(sign(line), flush=True)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
