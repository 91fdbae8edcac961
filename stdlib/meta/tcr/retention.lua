---@meta tcr.retention
-- Editor stubs for `require("tcr.retention")` (implemented in stdlib/tcr/retention.lua).

---@class tcr.retention.Policy
---@field keep_last? integer Keep the N most recently pushed tags (per group); ties by tag name.
---@field group_by? string|fun(tag: string, row: tcr.retention.Row): string Lua pattern with a capture, or a function: keep_last applies per group.
---@field older_than? string|number Only delete tags older than this ("30d"), or seconds.
---@field grace? string|number Never delete anything younger than this; beats every other rule.
---@field include? string[] Only these tags are in scope (regular expressions, full match; "lua:" for Lua patterns).
---@field exclude? string[] Tags out of scope (kept).
---@field protect? string[] Tags always kept: exact names or patterns, e.g. {"latest"}.
---@field keep_semver? integer|{count: integer, per?: "major"|"minor", prerelease?: boolean} Keep the newest N releases per minor (or major) line.
---@field untagged? boolean Delete images without a tag.
---@field max_delete? integer|string Refuse the plan if it deletes more than this count or percentage ("10%").
---@field now? integer Unix time to compute ages from (default: now).

---@class tcr.retention.Row
---@field tag string
---@field digest string
---@field size integer
---@field pushed_at integer
---@field age integer Seconds.
---@field reason string Which rule kept or deleted it.
---@field registry? string
---@field namespace? string
---@field repository? string

---@class tcr.retention.Plan
---@field keep tcr.retention.Row[]
---@field delete tcr.retention.Row[]
---@field total integer
---@field repository table

---@class tcr.retention.Outcome
---@field tag string
---@field digest string
---@field status "deleted"|"dry-run"|"failed"
---@field error? any

local retention = {}

---Decide for every image whether it is kept or deleted, and why (no API call).
---@param images table[] DescribeImages items
---@param policy tcr.retention.Policy
---@param repo? {RegistryId: string, NamespaceName: string, RepositoryName: string}
---@return tcr.retention.Plan
function retention.plan(images, policy, repo) end

---Delete the plan's `delete` rows (one DeleteImage per digest); honours --dry-run.
---@param plan tcr.retention.Plan
---@param opts? {concurrency: integer}
---@return tcr.retention.Outcome[]
function retention.apply(plan, opts) end

---Render one plan or a list of plans.
---@param plans tcr.retention.Plan|tcr.retention.Plan[]
---@param format? "table"|"json"|"csv"
---@return string
function retention.report(plans, format) end

---"namespace/repository" of a plan's repository.
---@param repo table
---@return string
function retention.describe(repo) end

---Human age: "3d", "5h".
---@param seconds integer
---@return string
function retention.format_age(seconds) end

---Human size: "12.3 MB".
---@param bytes integer?
---@return string
function retention.format_size(bytes) end

return retention
