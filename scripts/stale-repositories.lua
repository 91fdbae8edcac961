-- stale-repositories.lua: repositories with no push in the last `days` days.
--
-- Schedule: weekly, e.g. "0 9 * * MON".
-- Args:     registry=tcr-xxx   instance (default: the first instance of the region)
--           days=90            how long without a push counts as stale
-- Needs:    tcr:DescribeInstances, tcr:DescribeRepositories
--
--   tcrl run scripts/stale-repositories.lua --emulator --arg days=30

local days = math.tointeger(tonumber(tcr.args.days or "90"))
if not days or days < 0 then
  error("days must be a whole number, got " .. tostring(tcr.args.days))
end

local registry = tcr.args.registry
if not registry then
  local instances = tcr.collect("DescribeInstances")
  if #instances == 0 then
    error("no TCR instance in region " .. tcr.region .. "; pass --arg registry=tcr-xxx")
  end
  registry = instances[1].RegistryId
end

local stale = {}
for repo in tcr.paginate("DescribeRepositories", { RegistryId = registry }) do
  local idle = tcr.time.age(repo.UpdateTime) // 86400
  if idle >= days then
    stale[#stale + 1] = { name = repo.Name, idle = idle, updated = repo.UpdateTime:sub(1, 19) }
  end
end
table.sort(stale, function(a, b)
  if a.idle ~= b.idle then
    return a.idle > b.idle
  end
  return a.name < b.name
end)

print(string.format("%d repositories in %s without a push for %d days or more", #stale, registry, days))
for _, r in ipairs(stale) do
  print(string.format("  %-32s %5d days  (last push %s)", r.name, r.idle, r.updated))
end
