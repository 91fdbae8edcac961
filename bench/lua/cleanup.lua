-- Workload 3: keep the newest `keep` tags of every repository and delete the rest.
local retention = require("tcr.retention")
local keep = math.tointeger(tonumber(tcr.args.keep or "20"))
local registry = "tcr-demo0001"
local deleted = 0
for _, repo in ipairs(tcr.collect("DescribeRepositories", { RegistryId = registry })) do
  local id = {
    RegistryId = registry,
    NamespaceName = repo.Namespace,
    RepositoryName = repo.Name:sub(#repo.Namespace + 2),
  }
  local images = tcr.collect("DescribeImages", id, { page_size = 100 }) -- as the peers ask
  local plan = retention.plan(images, { keep_last = keep }, id)
  for _, outcome in ipairs(retention.apply(plan, { concurrency = 8 })) do
    if outcome.status ~= "deleted" then
      error(repo.Name .. ":" .. outcome.tag .. ": " .. tostring(outcome.error))
    end
    deleted = deleted + 1
  end
end
print("deleted=" .. deleted)
