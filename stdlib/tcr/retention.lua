-- tcr.retention: plan, apply and report image tag cleanups that people can trust.
--
-- `plan` is pure (no API call): it decides for every tag whether it is kept or deleted and
-- says why. `apply` deletes through `tcr.call`, so `--dry-run` holds every deletion back.
-- `report` renders a plan as a table, JSON or CSV.
--
-- Decision order for each tag (the first rule that applies wins):
--   1. grace       younger than `grace` -> keep (beats everything)
--   2. protect     exact tag or pattern -> keep
--   3. include/exclude  outside the included set, or excluded -> keep (out of scope)
--   4. untagged    no tag and `untagged = true` -> delete
--   5. keep_semver among the newest N releases of its major or minor line -> keep
--   6. keep_last   among the N most recently pushed tags of its group -> keep
--   7. older_than  pushed less than `older_than` ago -> keep
--   8. otherwise   delete
-- Then: a tag to delete whose digest is also carried by a kept tag is kept (deleting an
-- image deletes its digest, taking the kept tag with it). Last, `max_delete` refuses the
-- whole plan if it would delete too much.
local M = {}

local POLICY_FIELDS = {
  keep_last = true, group_by = true, older_than = true, grace = true, include = true,
  exclude = true, protect = true, keep_semver = true, untagged = true, max_delete = true, now = true,
}

local function fail(fname, message, level)
  error("retention." .. fname .. ": " .. message, level + 1)
end

local function duration(fname, field, value, level)
  if value == nil then
    return nil
  end
  if type(value) == "number" then
    return value
  end
  if type(value) ~= "string" then
    fail(fname, field .. " must be a duration like \"30d\", got " .. type(value), level + 1)
  end
  local ok, seconds = pcall(tcr.time.duration, value)
  if not ok then
    fail(fname, field .. ": " .. tostring(seconds), level + 1)
  end
  return seconds
end

-- A matcher for one pattern: regular expression (full match) or, with "lua:", a Lua pattern.
local function matcher(fname, field, pattern, level)
  if type(pattern) ~= "string" then
    fail(fname, field .. " entries must be strings, got " .. type(pattern), level + 1)
  end
  local lua_pattern = pattern:match("^lua:(.*)$")
  if lua_pattern then
    local body = lua_pattern:gsub("^%^", ""):gsub("%$$", "")
    return function(tag)
      return tag:match("^" .. body .. "$") ~= nil
    end
  end
  local ok, err = pcall(tcr.regex.full_match, pattern, "")
  if not ok then
    fail(fname, field .. ": " .. tostring(err), level + 1)
  end
  return function(tag)
    return tcr.regex.full_match(pattern, tag)
  end
end

local function matchers(fname, field, list, level)
  if list == nil then
    return nil
  end
  if type(list) == "string" then
    list = { list }
  end
  if type(list) ~= "table" then
    fail(fname, field .. " must be a list of patterns", level + 1)
  end
  local out = {}
  for i, p in ipairs(list) do
    out[i] = { pattern = p, test = matcher(fname, field, p, level + 1) }
  end
  return out
end

local function first_match(list, tag)
  for _, m in ipairs(list or {}) do
    if m.test(tag) then
      return m.pattern
    end
  end
  return nil
end

local function whole_number(fname, field, value, level)
  if value ~= nil and (math.type(value) ~= "integer" or value < 0) then
    fail(fname, field .. " must be a whole number, got " .. tostring(value), level + 1)
  end
  return value
end

---Human age: "3d", "5h", "12m".
function M.format_age(seconds)
  if seconds >= 86400 then
    return string.format("%dd", seconds // 86400)
  elseif seconds >= 3600 then
    return string.format("%dh", seconds // 3600)
  end
  return string.format("%dm", math.max(seconds, 0) // 60)
end

---Human size: "12.3 MB".
function M.format_size(bytes)
  if not bytes then
    return "-"
  end
  if bytes >= 1e9 then
    return string.format("%.1f GB", bytes / 1e9)
  end
  return string.format("%.1f MB", bytes / 1e6)
end

-- Rows from DescribeImages items (or anything with ImageVersion/Digest/Size/UpdateTime).
local function rows_of(images, repo, now)
  local rows = {}
  for i, image in ipairs(images) do
    if type(image) ~= "table" then
      fail("plan", "images[" .. i .. "] is a " .. type(image) .. ", not a table", 3)
    end
    local tag = image.ImageVersion or image.TagName or image.tag or ""
    local time = image.UpdateTime or image.PushTime or image.pushed_at
    local pushed_at = type(time) == "number" and time or (time and tcr.time.parse(time))
    if not pushed_at then
      fail("plan", "images[" .. i .. "] (" .. tag .. ") has no UpdateTime", 3)
    end
    rows[i] = {
      tag = tag,
      digest = image.Digest or image.TagId or image.digest,
      size = tonumber(image.Size or image.SizeByte or image.size),
      pushed_at = pushed_at,
      age = now - pushed_at,
      registry = repo.RegistryId,
      namespace = repo.NamespaceName,
      repository = repo.RepositoryName,
    }
  end
  -- Newest first; ties broken by tag name so every run decides the same way.
  table.sort(rows, function(a, b)
    if a.pushed_at ~= b.pushed_at then
      return a.pushed_at > b.pushed_at
    end
    return a.tag < b.tag
  end)
  return rows
end

local function group_key(group_by, row)
  if group_by == nil then
    return ""
  elseif type(group_by) == "function" then
    return tostring(group_by(row.tag, row) or "")
  end
  return row.tag:match(group_by) or "(other)"
end

local function semver_keepers(rows, spec, level)
  if spec == nil then
    return {}
  end
  if math.type(spec) == "integer" then
    spec = { count = spec }
  end
  if type(spec) ~= "table" then
    fail("plan", "keep_semver must be a number or {count =, per = \"major\"|\"minor\", prerelease = bool}", level + 1)
  end
  local count = whole_number("plan", "keep_semver.count", spec.count or 1, level + 1)
  local per = spec.per or "minor"
  if per ~= "major" and per ~= "minor" then
    fail("plan", "keep_semver.per must be \"major\" or \"minor\"", level + 1)
  end
  local lines = {}
  for _, row in ipairs(rows) do
    local v = tcr.semver.parse(row.tag)
    if v and (spec.prerelease or not v.prerelease) then
      local key = per == "major" and tostring(v.major) or (v.major .. "." .. v.minor)
      lines[key] = lines[key] or {}
      table.insert(lines[key], row)
    end
  end
  local keep = {}
  for key, list in pairs(lines) do
    table.sort(list, function(a, b)
      local c = tcr.semver.compare(a.tag, b.tag)
      if c ~= 0 then
        return c > 0
      end
      return a.tag < b.tag
    end)
    for i = 1, math.min(count, #list) do
      keep[list[i]] = string.format("keep_semver: newest %d of %s %s", count, per, key)
    end
  end
  return keep
end

---Decide, for every image of one repository, whether it is kept or deleted, and why.
---@param images table list of DescribeImages items
---@param policy table see the module header
---@param repo table? {RegistryId =, NamespaceName =, RepositoryName =} for apply
function M.plan(images, policy, repo)
  if type(images) ~= "table" then
    fail("plan", "images must be a list, got " .. type(images), 2)
  end
  if type(policy) ~= "table" then
    fail("plan", "policy must be a table, got " .. type(policy), 2)
  end
  for k in pairs(policy) do
    if not POLICY_FIELDS[k] then
      local names = {}
      for name in pairs(POLICY_FIELDS) do
        names[#names + 1] = name
      end
      table.sort(names)
      fail("plan", "unknown policy field '" .. tostring(k) .. "' (fields: " .. table.concat(names, ", ") .. ")", 2)
    end
  end
  repo = repo or {}
  local keep_last = whole_number("plan", "keep_last", policy.keep_last, 2)
  local older_than = duration("plan", "older_than", policy.older_than, 2)
  local grace = duration("plan", "grace", policy.grace, 2)
  if keep_last == nil and older_than == nil and not policy.untagged then
    fail("plan", "the policy deletes nothing: set keep_last, older_than or untagged", 2)
  end
  if policy.group_by ~= nil and type(policy.group_by) ~= "function" and type(policy.group_by) ~= "string" then
    fail("plan", "group_by must be a function(tag) or a Lua pattern with a capture", 2)
  end
  local protect = matchers("plan", "protect", policy.protect, 2)
  local include = matchers("plan", "include", policy.include, 2)
  local exclude = matchers("plan", "exclude", policy.exclude, 2)
  local now = policy.now or tcr.time.now()
  local rows = rows_of(images, repo, now)
  local semver_keep = semver_keepers(rows, policy.keep_semver, 2)
  local rank = {}
  local plan = { keep = {}, delete = {}, total = #rows, repository = repo }

  for _, row in ipairs(rows) do
    local reason, keep
    local protected_by = row.tag ~= "" and first_match(protect, row.tag)
    if protect then
      for _, p in ipairs(policy.protect) do
        if p == row.tag then
          protected_by = p
        end
      end
    end
    if grace and row.age < grace then
      keep, reason = true, "grace: pushed " .. M.format_age(row.age) .. " ago"
    elseif protected_by then
      keep, reason = true, "protected by '" .. protected_by .. "'"
    elseif include and not first_match(include, row.tag) then
      keep, reason = true, "not included"
    elseif exclude and first_match(exclude, row.tag) then
      keep, reason = true, "excluded by '" .. first_match(exclude, row.tag) .. "'"
    elseif row.tag == "" and policy.untagged then
      keep, reason = false, "untagged"
    elseif semver_keep[row] then
      keep, reason = true, semver_keep[row]
    else
      local group = group_key(policy.group_by, row)
      rank[group] = (rank[group] or 0) + 1
      local label = group == "" and "" or (" in group '" .. group .. "'")
      if keep_last and rank[group] <= keep_last then
        keep, reason = true, string.format("keep_last: #%d newest%s", rank[group], label)
      elseif older_than and row.age < older_than then
        keep, reason = true, "newer than " .. policy.older_than
      elseif keep_last == nil and older_than == nil then
        keep, reason = true, "tagged (the policy only deletes untagged images)"
      else
        local why = {}
        if keep_last then
          why[#why + 1] = string.format("not among the %d newest%s", keep_last, label)
        end
        if older_than then
          why[#why + 1] = "older than " .. policy.older_than
        end
        keep, reason = false, table.concat(why, ", ")
      end
    end
    row.reason = reason
    table.insert(keep and plan.keep or plan.delete, row)
  end

  -- Deleting an image deletes its digest: never delete a digest a kept tag still carries.
  local kept_digests = {}
  for _, row in ipairs(plan.keep) do
    if row.digest and not kept_digests[row.digest] then
      kept_digests[row.digest] = row.tag
    end
  end
  local still_delete = {}
  for _, row in ipairs(plan.delete) do
    local twin = row.digest and kept_digests[row.digest]
    if twin then
      row.reason = "shares digest with kept tag '" .. twin .. "'"
      table.insert(plan.keep, row)
    else
      table.insert(still_delete, row)
    end
  end
  plan.delete = still_delete

  local max = policy.max_delete
  if max ~= nil then
    local limit
    if math.type(max) == "integer" and max >= 0 then
      limit = max
    elseif type(max) == "string" and max:match("^%d+%%$") then
      limit = math.floor(#rows * tonumber(max:sub(1, -2)) / 100)
    else
      fail("plan", "max_delete must be a count or a percentage like \"10%\", got " .. tostring(max), 2)
    end
    if #plan.delete > limit then
      fail("plan", string.format("refusing to delete %d of %d tags in %s: max_delete is %s",
        #plan.delete, #rows, M.describe(repo), tostring(max)), 2)
    end
  end
  return plan
end

---"namespace/repository" of a plan's repository, or "(repository)".
function M.describe(repo)
  if repo and repo.NamespaceName and repo.RepositoryName then
    return repo.NamespaceName .. "/" .. repo.RepositoryName
  end
  return "(repository)"
end

---Delete a plan's `delete` rows with DeleteImage; one call per digest (it removes the
---artifact with every tag on it). Honours --dry-run. Failures do not stop the rest.
---@return table outcomes one per delete row: {tag =, digest =, status = "deleted"|"dry-run"|"failed", error =}
function M.apply(plan, opts)
  if type(plan) ~= "table" or type(plan.delete) ~= "table" then
    fail("apply", "expected a plan from retention.plan", 2)
  end
  opts = opts or {}
  local by_digest, order = {}, {}
  for _, row in ipairs(plan.delete) do
    if not (row.registry and row.namespace and row.repository) then
      fail("apply", "the plan has no repository (pass {RegistryId =, NamespaceName =, RepositoryName =} to plan)", 2)
    end
    local key = row.digest or ("tag:" .. row.tag)
    if not by_digest[key] then
      by_digest[key] = {}
      order[#order + 1] = key
    end
    table.insert(by_digest[key], row)
  end
  local results, failures = tcr.map(order, function(key)
    local first = by_digest[key][1]
    return tcr.call("DeleteImage", {
      RegistryId = first.registry,
      NamespaceName = first.namespace,
      RepositoryName = first.repository,
      ImageVersion = first.tag,
    })
  end, { concurrency = opts.concurrency or 4 })
  local failed = {}
  for _, f in ipairs(failures) do
    failed[f.index] = f.error
  end
  local outcomes = {}
  for i, key in ipairs(order) do
    for _, row in ipairs(by_digest[key]) do
      local status = "deleted"
      if failed[i] then
        status = "failed"
      elseif results[i] and results[i].DryRun then
        status = "dry-run"
      end
      outcomes[#outcomes + 1] = { tag = row.tag, digest = row.digest, status = status, error = failed[i] }
    end
  end
  return outcomes
end

local function csv_field(v)
  v = tostring(v == nil and "" or v)
  if v:find('[,"\n]') then
    v = '"' .. v:gsub('"', '""') .. '"'
  end
  return v
end

---Render plans (one plan or a list of plans) as "table" (default), "json" or "csv".
function M.report(plans, format)
  if type(plans) ~= "table" then
    fail("report", "expected a plan or a list of plans", 2)
  end
  if plans.keep then
    plans = { plans }
  end
  format = format or "table"
  if format == "json" then
    local out = {}
    for i, p in ipairs(plans) do
      out[i] = { repository = M.describe(p.repository), keep = p.keep, delete = p.delete }
    end
    return tcr.json.encode(out)
  elseif format == "csv" then
    local lines = { "action,registry,namespace,repository,tag,digest,age_days,size,reason" }
    for _, p in ipairs(plans) do
      for _, pair in ipairs({ { "delete", p.delete }, { "keep", p.keep } }) do
        for _, r in ipairs(pair[2]) do
          local fields = { pair[1], r.registry, r.namespace, r.repository, r.tag, r.digest, r.age // 86400, r.size, r.reason }
          for i, f in ipairs(fields) do
            fields[i] = csv_field(f)
          end
          lines[#lines + 1] = table.concat(fields, ",")
        end
      end
    end
    return table.concat(lines, "\n")
  elseif format ~= "table" then
    fail("report", "format must be \"table\", \"json\" or \"csv\", got " .. tostring(format), 2)
  end
  local lines = {}
  for _, p in ipairs(plans) do
    lines[#lines + 1] = string.format("%s: keep %d, delete %d of %d", M.describe(p.repository), #p.keep, #p.delete, p.total)
    for _, r in ipairs(p.delete) do
      lines[#lines + 1] = string.format("  delete %-42s %6s %10s  %s", r.tag, M.format_age(r.age), M.format_size(r.size), r.reason)
    end
  end
  return table.concat(lines, "\n")
end

return M
