-- retention-rules.lua: compare the instance's server-side tag retention rules with the same
-- policy computed locally by tcr.retention.
--
-- For every rule it runs a server dry-run execution (CreateTagRetentionExecution with
-- DryRun = true), reads how many tags each repository task would retain, computes the plan
-- with the equivalent local policy, and prints both side by side. A difference means the
-- server's rule and the local policy disagree: look before trusting either.
--
-- Schedule: on demand, after changing a rule.
-- Args:     registry=tcr-xxx   instance (default: the first instance of the region)
--           create=NAMESPACE:KEEP   first create a latestPushedK rule (for a rehearsal)
-- Needs:    tcr:DescribeInstances, tcr:DescribeNamespaces, tcr:DescribeTagRetentionRules,
--           tcr:CreateTagRetentionExecution, tcr:DescribeTagRetentionExecution,
--           tcr:DescribeTagRetentionExecutionTask, tcr:DescribeImages (tcr:CreateTagRetentionRule with create=)
--
--   tcrl run scripts/retention-rules.lua --emulator --arg create=sandbox:3

local retention = require("tcr.retention")

local registry = tcr.args.registry
if not registry then
  registry = tcr.collect("DescribeInstances")[1].RegistryId
end

if tcr.args.create then
  local ns_name, keep = tcr.args.create:match("^([^:]+):(%d+)$")
  if not ns_name then
    error("create must be NAMESPACE:KEEP, got " .. tcr.args.create)
  end
  local ns = tcr.collect("DescribeNamespaces", { RegistryId = registry, NamespaceName = ns_name })[1]
  if not ns then
    error("no namespace " .. ns_name)
  end
  tcr.call("CreateTagRetentionRule", {
    RegistryId = registry,
    NamespaceId = ns.NamespaceId,
    CronSetting = "manual",
    RetentionRule = { Key = "latestPushedK", Value = tonumber(keep) },
  })
end

local rules = tcr.collect("DescribeTagRetentionRules", { RegistryId = registry })
if #rules == 0 then
  print("no tag retention rules in " .. registry)
  return
end

local disagreements = 0
for _, rule in ipairs(rules) do
  local r = rule.RetentionRuleList[1]
  local policy
  if r.Key == "latestPushedK" then
    policy = { keep_last = r.Value }
  elseif r.Key == "nDaysSinceLastPush" then
    policy = { older_than = r.Value .. "d" }
  end
  print(string.format("rule %d on %s: %s = %d", rule.RetentionId, rule.NamespaceName, r.Key, r.Value))
  if not policy then
    print("  (no local equivalent for " .. r.Key .. ")")
  else
    tcr.call("CreateTagRetentionExecution", { RegistryId = registry, RetentionId = rule.RetentionId, DryRun = true })
    local executions = tcr.call("DescribeTagRetentionExecution", { RegistryId = registry, RetentionId = rule.RetentionId, Limit = 1, Offset = 1 })
    local execution = executions.RetentionExecutionList[1]
    local server = {}
    for task in tcr.paginate("DescribeTagRetentionExecutionTask", { RegistryId = registry, RetentionId = rule.RetentionId, ExecutionId = execution.ExecutionId }) do
      server[task.Repository] = task
    end
    local names = {}
    for name in pairs(server) do
      names[#names + 1] = name
    end
    table.sort(names)
    print(string.format("  %-28s %14s %14s", "REPOSITORY", "SERVER KEEPS", "LOCAL KEEPS"))
    for _, name in ipairs(names) do
      local images = tcr.collect("DescribeImages", { RegistryId = registry, NamespaceName = rule.NamespaceName, RepositoryName = name })
      local plan = retention.plan(images, policy)
      local task = server[name]
      local mark = ""
      if task.Retained ~= #plan.keep then
        mark = "  <- differs"
        disagreements = disagreements + 1
      end
      print(string.format("  %-28s %9d of %-3d %9d of %-3d%s", name, task.Retained, task.Total, #plan.keep, plan.total, mark))
    end
  end
end
print(disagreements == 0 and "server and local plans agree" or (disagreements .. " repositories differ"))
