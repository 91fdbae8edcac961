-- cleanup-old-tags.lua: delete old image tags from every repository of a TCR instance.
--
-- In every repository it keeps the newest `keep` tags, anything pushed within `grace`,
-- `latest`, and release tags (v1.2.3, 1.2.3); it never deletes a digest that a kept tag still
-- uses. It prints the plan, and deletes only with `--arg apply=true` (never under --dry-run).
--
-- Schedule: nightly, e.g. "0 3 * * *".
-- Args:     registry=tcr-xxx   instance to clean (default: the first instance of the region)
--           namespace=NAME     only this namespace (default: all)
--           keep=10            newest tags kept per repository
--           grace=7d           never delete anything younger than this
--           older_than=30d     only delete tags older than this
--           max_delete=50%     refuse a repository whose plan deletes more than this
--           format=table       table, json or csv
--           apply=true         really delete (default: print the plan only)
-- Needs:    tcr:DescribeInstances, tcr:DescribeRepositories, tcr:DescribeImages, tcr:DeleteImage
--
--   tcrl run scripts/cleanup-old-tags.lua --emulator
--   tcrl run scripts/cleanup-old-tags.lua --arg registry=tcr-xxx --arg apply=true

local retention = require("tcr.retention")

local args = tcr.args
local apply = args.apply == "true"
local format = args.format or "table"
local policy = {
  keep_last = tonumber(args.keep or "10"),
  grace = args.grace or "7d",
  older_than = args.older_than or "30d",
  protect = { "latest", [[v?\d+\.\d+\.\d+]] },
  max_delete = args.max_delete or "50%",
}
if not math.tointeger(policy.keep_last) then
  error("keep must be a whole number, got " .. tostring(args.keep))
end
policy.keep_last = math.tointeger(policy.keep_last)

local registry = args.registry
if not registry then
  local instances = tcr.collect("DescribeInstances")
  if #instances == 0 then
    error("no TCR instance in region " .. tcr.region .. "; pass --arg registry=tcr-xxx")
  end
  registry = instances[1].RegistryId
end

local repositories = tcr.collect("DescribeRepositories", { RegistryId = registry, NamespaceName = args.namespace })

-- Read every repository's tags, several repositories at a time.
local plans, failures = tcr.map(repositories, function(repo)
  local repo_id = {
    RegistryId = registry,
    NamespaceName = repo.Namespace,
    RepositoryName = repo.Name:sub(#repo.Namespace + 2),
  }
  local images = tcr.collect("DescribeImages", {
    RegistryId = registry,
    NamespaceName = repo_id.NamespaceName,
    RepositoryName = repo_id.RepositoryName,
  })
  return retention.plan(images, policy, repo_id)
end)
for _, f in ipairs(failures) do
  tcr.log.error("skipped repository " .. f.item.Name, { error = tostring(f.error) })
end

local with_deletions, to_delete, bytes = {}, 0, 0
for i = 1, #repositories do
  local plan = plans[i]
  if plan and #plan.delete > 0 then
    with_deletions[#with_deletions + 1] = plan
    to_delete = to_delete + #plan.delete
    for _, row in ipairs(plan.delete) do
      bytes = bytes + (row.size or 0)
    end
  end
end

if format ~= "table" then
  print(retention.report(with_deletions, format))
elseif #with_deletions > 0 then
  print(retention.report(with_deletions, "table"))
  print()
end

local where = string.format("%d of %d repositories in %s", #with_deletions, #repositories, registry)
if not apply or tcr.dry_run then
  print(string.format("dry run: would delete %d tags (%s) in %s", to_delete, retention.format_size(bytes), where))
  if not tcr.dry_run then
    print("run again with --arg apply=true to delete them")
  end
  if tcr.dry_run and apply then
    -- --dry-run wins over apply=true: deletions are planned, never sent.
    for _, plan in ipairs(with_deletions) do
      retention.apply(plan)
    end
  end
else
  local deleted, failed = 0, 0
  for _, plan in ipairs(with_deletions) do
    for _, outcome in ipairs(retention.apply(plan)) do
      if outcome.status == "deleted" then
        deleted = deleted + 1
      else
        failed = failed + 1
        tcr.log.error("could not delete " .. outcome.tag, { error = tostring(outcome.error) })
      end
    end
  end
  print(string.format("deleted %d tags (%s) in %s; %d failed", deleted, retention.format_size(bytes), where, failed))
  if failed > 0 then
    error(failed .. " deletions failed")
  end
end
if #failures > 0 then
  error(#failures .. " repositories could not be read")
end
