#!/usr/bin/env bash
# Workload 2 with tccli: one process per call, as in a shell loop. Needs BENCH_ENDPOINT and the
# emulator's CA in the bench venv's trust store (bench.py arranges both).
set -euo pipefail
call() { tccli tcr "$@" --endpoint "$BENCH_ENDPOINT" --region ap-guangzhou; }
repos=$(call DescribeRepositories --RegistryId tcr-demo0001 --Limit 100 | python3 -c \
  'import json,sys; print("\n".join(r["Name"] for r in json.load(sys.stdin)["RepositoryList"]))')
tags=0
count=0
for repo in $repos; do
  n=$(call DescribeImages --RegistryId tcr-demo0001 --NamespaceName "${repo%%/*}" \
        --RepositoryName "${repo#*/}" --Limit 100 | python3 -c \
        'import json,sys; print(len(json.load(sys.stdin)["ImageInfoList"]))')
  tags=$((tags + n))
  count=$((count + 1))
done
echo "repositories=$count tags=$tags"
