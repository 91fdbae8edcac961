"""Workload 2: count every tag of every repository, one call after another, as users write it."""

import json

from tencentcloud.tcr.v20190924 import models

from sdk_common import REGISTRY, client


def request(cls, **params):
    req = cls()
    req.from_json_string(json.dumps(params))
    return req


c = client()
repos, page = [], 1
while True:
    resp = c.DescribeRepositories(request(models.DescribeRepositoriesRequest, RegistryId=REGISTRY, Offset=page, Limit=100))
    repos += resp.RepositoryList
    if len(repos) >= resp.TotalCount or not resp.RepositoryList:
        break
    page += 1

tags = 0
for repo in repos:
    namespace, name = repo.Name.split("/", 1)
    page = 1
    while True:
        resp = c.DescribeImages(request(models.DescribeImagesRequest, RegistryId=REGISTRY, NamespaceName=namespace,
                                        RepositoryName=name, Offset=page, Limit=100))
        tags += len(resp.ImageInfoList)
        if page * 100 >= resp.TotalCount or not resp.ImageInfoList:
            break
        page += 1
print("repositories=%d tags=%d" % (len(repos), tags))
