-- Workload 2: count every tag of every repository of the registry.
-- Args: concurrency=N (tcr.map width; 1 lists the repositories one after another).
local concurrency = math.tointeger(tonumber(tcr.args.concurrency or "16"))
local registry = "tcr-demo0001"
local repos = tcr.collect("DescribeRepositories", { RegistryId = registry })
local counts = tcr.map(repos, function(repo)
  return #tcr.collect("DescribeImages", {
    RegistryId = registry,
    NamespaceName = repo.Namespace,
    RepositoryName = repo.Name:sub(#repo.Namespace + 2),
  }, { page_size = 100 }) -- as the peers ask; the documented default is 20
end, { concurrency = concurrency, fail_fast = true })
local tags = 0
for _, n in ipairs(counts) do
  tags = tags + n
end
print(string.format("repositories=%d tags=%d", #repos, tags))
