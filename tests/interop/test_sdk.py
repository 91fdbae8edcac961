"""Interop: Tencent's own Python SDK (a client nobody here wrote) against `tcrl emulator`.

Usage: python tests/interop/test_sdk.py PATH/TO/tcrl

Starts the emulator on a free loopback port, calls it with the SDK using every signature
family it speaks, and checks that errors (wrong key, missing resource) reach the SDK as
errors. Ends with the line "N passed, N failed"; exits non-zero on any failure.
"""

import json
import os
import subprocess
import sys
import tempfile
import traceback

from tencentcloud.common import credential
from tencentcloud.common.common_client import CommonClient
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.tcr.v20190924 import models, tcr_client

DEMO_ID = "AKIDtcrlEMULATOR0000000000000000demo"
DEMO_KEY = "tcrlEmulatorDemoKey000000000000"
REGISTRY = "tcr-demo0001"


BINARY = None  # the tcrl under test, set by main()


def start_emulator(binary, *extra):
    proc = subprocess.Popen(
        [binary, "emulator", "--listen", "127.0.0.1:0", "--demo", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    first = proc.stdout.readline()
    if "://" not in first:
        proc.kill()
        raise SystemExit("emulator did not start: %r" % first)
    return proc, first.rsplit("://", 1)[1].strip()


def client(address, sign_method="TC3-HMAC-SHA256", req_method="POST", key=DEMO_KEY):
    http = HttpProfile(protocol="http", endpoint=address, reqMethod=req_method)
    profile = ClientProfile(httpProfile=http, signMethod=sign_method)
    return tcr_client.TcrClient(credential.Credential(DEMO_ID, key), "ap-guangzhou", profile)


def common(address, sign_method="TC3-HMAC-SHA256", req_method="POST"):
    http = HttpProfile(protocol="http", endpoint=address, reqMethod=req_method)
    profile = ClientProfile(httpProfile=http, signMethod=sign_method)
    cred = credential.Credential(DEMO_ID, DEMO_KEY)
    return CommonClient("tcr", "2019-09-24", cred, "ap-guangzhou", profile=profile)


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


def describe_instances(c):
    req = models.DescribeInstancesRequest()
    req.from_json_string(json.dumps({"Registryids": [REGISTRY], "Limit": 10}))
    return c.DescribeInstances(req)


def test_tc3_post(address):
    resp = describe_instances(client(address))
    expect(resp.TotalCount == 1, "TotalCount %r" % resp.TotalCount)
    expect(resp.Registries[0].RegistryId == REGISTRY, resp.to_json_string())


def test_tc3_get(address):
    resp = describe_instances(client(address, req_method="GET"))
    expect(resp.TotalCount == 1, resp.to_json_string())


def test_hmacsha256_post_and_get(address):
    for method in ("POST", "GET"):
        resp = describe_instances(client(address, "HmacSHA256", method))
        expect(resp.TotalCount == 1, "%s: %s" % (method, resp.to_json_string()))


def test_hmacsha1_post_and_get(address):
    for method in ("POST", "GET"):
        resp = describe_instances(client(address, "HmacSHA1", method))
        expect(resp.TotalCount == 1, "%s: %s" % (method, resp.to_json_string()))


def test_nested_filters_with_hmacsha256(address):
    c = common(address, "HmacSHA256", "POST")
    resp = c.call_json("DescribeInstances", {"Filters": [{"Name": "RegistryName", "Values": ["demo", "a b&c"]}]})
    expect(resp["Response"]["TotalCount"] == 1, json.dumps(resp))


def test_paging_describe_repositories(address):
    c = client(address)
    names = []
    page = 1
    while True:
        req = models.DescribeRepositoriesRequest()
        req.from_json_string(json.dumps({"RegistryId": REGISTRY, "Limit": 20, "Offset": page}))
        resp = c.DescribeRepositories(req)
        if not resp.RepositoryList:
            break
        names += [r.Name for r in resp.RepositoryList]
        page += 1
    expect(len(names) == 50 and len(set(names)) == 50, "walked %d repositories" % len(names))
    expect(page == 4, "pages %d" % page)


def test_create_and_delete_through_common_client(address):
    c = common(address)
    c.call_json("CreateNamespace", {"RegistryId": REGISTRY, "NamespaceName": "from-python", "IsPublic": False})
    resp = c.call_json("DescribeNamespaces", {"RegistryId": REGISTRY, "NamespaceName": "from-python"})
    expect(resp["Response"]["TotalCount"] == 1, json.dumps(resp))
    c.call_json("DeleteNamespace", {"RegistryId": REGISTRY, "NamespaceName": "from-python"})


def expect_sdk_error(call, code):
    try:
        call()
    except TencentCloudSDKException as e:
        expect(e.get_code() == code, "expected %s, got %s: %s" % (code, e.get_code(), e.get_message()))
        expect(e.get_request_id(), "no request id")
        return
    raise AssertionError("expected %s, the call succeeded" % code)


def test_wrong_key_fails_with_signature_failure(address):
    for sign_method in ("TC3-HMAC-SHA256", "HmacSHA256"):
        bad = client(address, sign_method, key="not-the-right-key-00000")
        expect_sdk_error(lambda: describe_instances(bad), "AuthFailure.SignatureFailure")


def test_missing_resource_is_an_sdk_error(address):
    def call():
        req = models.DescribeImagesRequest()
        req.from_json_string(json.dumps({"RegistryId": REGISTRY, "NamespaceName": "team-a", "RepositoryName": "nope"}))
        client(address).DescribeImages(req)

    expect_sdk_error(call, "ResourceNotFound")


def test_https_with_the_emulator_ca(address):
    """The SDK's default protocol is HTTPS; it trusts the emulator's generated CA."""
    with tempfile.TemporaryDirectory() as tls_dir:
        proc, tls_address = start_emulator(BINARY, "--tls-self-signed", tls_dir)
        try:
            ca = os.path.join(tls_dir, "ca.pem")
            for sign_method in ("TC3-HMAC-SHA256", "HmacSHA256"):
                http = HttpProfile(endpoint=tls_address, certification=ca)
                profile = ClientProfile(httpProfile=http, signMethod=sign_method)
                c = tcr_client.TcrClient(credential.Credential(DEMO_ID, DEMO_KEY), "ap-guangzhou", profile)
                resp = describe_instances(c)
                expect(resp.TotalCount == 1, "%s: %s" % (sign_method, resp.to_json_string()))
            # Without the CA the SDK must refuse the certificate.
            untrusted = tcr_client.TcrClient(
                credential.Credential(DEMO_ID, DEMO_KEY),
                "ap-guangzhou",
                ClientProfile(httpProfile=HttpProfile(endpoint=tls_address)),
            )
            try:
                describe_instances(untrusted)
            except TencentCloudSDKException as e:
                expect("certificate" in str(e).lower() or "ssl" in str(e).lower(), str(e))
            else:
                raise AssertionError("an untrusted certificate was accepted")
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def main():
    global BINARY
    binary = BINARY = sys.argv[1]
    proc, address = start_emulator(binary)
    tests = [(name, fn) for name, fn in sorted(globals().items()) if name.startswith("test_")]
    passed = failed = 0
    try:
        for name, fn in tests:
            try:
                fn(address)
                passed += 1
                print("ok   %s" % name)
            except Exception:
                failed += 1
                print("FAIL %s" % name)
                traceback.print_exc()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    print("interop: %d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed or not passed else 0)


if __name__ == "__main__":
    main()
