"""Shared set-up of the Python SDK peers: a TcrClient for the emulator over HTTPS."""

import os

from tencentcloud.common import credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.tcr.v20190924 import tcr_client

REGISTRY = "tcr-demo0001"


def client():
    """The client a user writes, pointed at the emulator (endpoint and CA from bench.py)."""
    http = HttpProfile(endpoint=os.environ["BENCH_ENDPOINT"], certification=os.environ["BENCH_CA"])
    cred = credential.Credential(os.environ["TENCENTCLOUD_SECRET_ID"], os.environ["TENCENTCLOUD_SECRET_KEY"])
    return tcr_client.TcrClient(cred, "ap-guangzhou", ClientProfile(httpProfile=http))
