"""Workload 3: keep the newest KEEP tags per repository and delete the rest, with the retry on
RequestLimitExceeded that a user must add (the SDK retries nothing by default)."""

import json
import os
import time

from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.tcr.v20190924 import models

from sdk_common import REGISTRY, client

KEEP = int(os.environ.get("KEEP", "20"))


def request(cls, **params):
    req = cls()
    req.from_json_string(json.dumps(params))
    return req


def with_retry(call, req):
    delay = 0.05
    while True:
        try:
            return call(req)
        except TencentCloudSDKException as e:
            if e.get_code() != "RequestLimitExceeded":
                raise
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


c = client()
repos = c.DescribeRepositories(request(models.DescribeRepositoriesRequest, RegistryId=REGISTRY, Limit=100)).RepositoryList
deleted = 0
for repo in repos:
    namespace, name = repo.Name.split("/", 1)
    images, page = [], 1
    while True:
        resp = with_retry(c.DescribeImages, request(models.DescribeImagesRequest, RegistryId=REGISTRY,
                                                    NamespaceName=namespace, RepositoryName=name, Offset=page, Limit=100))
        images += resp.ImageInfoList
        if len(images) >= resp.TotalCount or not resp.ImageInfoList:
            break
        page += 1
    images.sort(key=lambda i: i.UpdateTime, reverse=True)
    for image in images[KEEP:]:
        with_retry(c.DeleteImage, request(models.DeleteImageRequest, RegistryId=REGISTRY, NamespaceName=namespace,
                                          RepositoryName=name, ImageVersion=image.ImageVersion))
        deleted += 1
print("deleted=%d" % deleted)
