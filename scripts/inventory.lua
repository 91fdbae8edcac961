-- inventory.lua: repositories and tags per namespace, with total size.
--
-- Schedule: on demand, or weekly for a capacity report.
-- Args:     registry=tcr-xxx   instance (default: the first instance of the region)
--           format=table       table or json
-- Needs:    tcr:DescribeInstances, tcr:DescribeRepositories, tcr:DescribeImages
--
--   tcrl run scripts/inventory.lua --emulator
--   tcrl run scripts/inventory.lua --emulator --arg format=json

local retention = require("tcr.retention")

local registry = tcr.args.registry
if not registry then
  local instances = tcr.collect("DescribeInstances")
  if #instances == 0 then
    error("no TCR instance in region " .. tcr.region .. "; pass --arg registry=tcr-xxx")
  end
  registry = instances[1].RegistryId
end

local repositories = tcr.collect("DescribeRepositories", { RegistryId = registry })
local stats = tcr.map(repositories, function(repo)
  local images = tcr.collect("DescribeImages", {
    RegistryId = registry,
    NamespaceName = repo.Namespace,
    RepositoryName = repo.Name:sub(#repo.Namespace + 2),
  })
  local bytes = 0
  for _, image in ipairs(images) do
    bytes = bytes + image.Size
  end
  return { tags = #images, bytes = bytes }
end, { concurrency = 8 })

local namespaces, order = {}, {}
for i, repo in ipairs(repositories) do
  local ns = namespaces[repo.Namespace]
  if not ns then
    ns = { namespace = repo.Namespace, repositories = 0, tags = 0, bytes = 0 }
    namespaces[repo.Namespace] = ns
    order[#order + 1] = repo.Namespace
  end
  local s = stats[i] or { tags = 0, bytes = 0 }
  ns.repositories, ns.tags, ns.bytes = ns.repositories + 1, ns.tags + s.tags, ns.bytes + s.bytes
end
table.sort(order)

local rows, total = {}, { namespace = "TOTAL", repositories = 0, tags = 0, bytes = 0 }
for _, name in ipairs(order) do
  local ns = namespaces[name]
  rows[#rows + 1] = ns
  total.repositories, total.tags, total.bytes = total.repositories + ns.repositories, total.tags + ns.tags, total.bytes + ns.bytes
end

if tcr.args.format == "json" then
  print(tcr.json.encode({ registry = registry, namespaces = rows, total = total }))
  return
end
print(string.format("%-16s %12s %8s %12s", "NAMESPACE", "REPOSITORIES", "TAGS", "SIZE"))
for _, ns in ipairs(rows) do
  print(string.format("%-16s %12d %8d %12s", ns.namespace, ns.repositories, ns.tags, retention.format_size(ns.bytes)))
end
print(string.format("%-16s %12d %8d %12s", total.namespace, total.repositories, total.tags, retention.format_size(total.bytes)))
