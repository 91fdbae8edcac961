-- regions.lua: print every TCR region, its display name and API endpoint.
--
-- Schedule: none (a reference, run it by hand).
-- Args:     none.
-- Needs:    nothing: no network, no credentials.
--
--   tcrl run scripts/regions.lua

local rows = tcr.regions()
table.sort(rows, function(a, b)
  if a.financial ~= b.financial then
    return not a.financial
  end
  return a.region < b.region
end)

print(string.format("%-18s %-45s %s", "REGION", "NAME", "ENDPOINT"))
for _, r in ipairs(rows) do
  local name = r.name .. (r.financial and " [financial]" or "")
  print(string.format("%-18s %-45s %s", r.region, name, r.endpoint))
end
print()
print("default region: " .. tcr.region .. ", calls go to " .. tcr.endpoint())
