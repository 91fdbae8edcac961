"""Workload 4: TC3 signatures per second in Tencent's Python SDK, one thread.

Two figures, like `cargo bench --bench signing`: the SDK's signature function alone
(`_get_tc3_signature`: canonical request, string to sign, key derivation, HMAC) and its whole
request signing (`_build_req_with_tc3_signature`: JSON body, headers, signature).
Prints `name: median (min, max)` lines."""

import statistics
import sys
import time

from tencentcloud.common import credential
from tencentcloud.common.common_client import CommonClient
from tencentcloud.common.http.request import RequestInternal
from tencentcloud.common.profile.client_profile import ClientProfile

WINDOW = 0.2 if "--quick" in sys.argv else 1.0
KEY = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"
PARAMS = {"RegistryId": "tcr-demo0001", "NamespaceName": "team-a", "RepositoryName": "svc", "Limit": 100}
client = CommonClient("tcr", "2019-09-24", credential.Credential("AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE", KEY),
                      "ap-guangzhou", profile=ClientProfile())

prepared = RequestInternal("tcr.tencentcloudapi.com", "POST", "/")
prepared.header.update({"Content-Type": "application/json", "Host": "tcr.tencentcloudapi.com",
                        "X-TC-Timestamp": "1700000000"})
prepared.data = '{"RegistryId":"tcr-demo0001","NamespaceName":"team-a","RepositoryName":"svc","Limit":100}'


def signature():
    client._get_tc3_signature({}, prepared, "2023-11-14", "tcr", KEY)


def signed_request():
    req = RequestInternal("tcr.tencentcloudapi.com", "POST", "/")
    client._build_req_with_tc3_signature("DescribeImages", PARAMS, req)


def rate(op):
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < WINDOW:
        for _ in range(100):
            op()
        count += 100
    return count / (time.perf_counter() - start)


for name, op in (("tc3 signatures/s", signature), ("tc3 signed requests/s", signed_request)):
    rate(op)
    runs = sorted(rate(op) for _ in range(5))
    print("%s: %.0f (min %.0f, max %.0f)" % (name, statistics.median(runs), runs[0], runs[-1]))
