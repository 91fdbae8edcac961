"""Workload 1: one DescribeInstances call with Tencent's Python SDK."""

from tencentcloud.tcr.v20190924 import models

from sdk_common import client

client().DescribeInstances(models.DescribeInstancesRequest())
