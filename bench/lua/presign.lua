-- Workload 1 (curl baseline): print a signed DescribeInstances request as JSON, for curl to send.
local req = tcr.sign({ action = "DescribeInstances", params = {} })
print(tcr.json.encode(req))
