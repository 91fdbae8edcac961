-- Workload 1: one DescribeInstances call, the whole process measured.
tcr.call("DescribeInstances")
