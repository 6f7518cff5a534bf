-- Workflow global: the builder, the table forms, files, instances with ':' methods, the registry.
-- Instances hold the id of a workflow kept by the host for this run. Before a definition crosses
-- to the host, workflow instances inside it become their ids and other host instances (agents)
-- the plain table of their fields.
local kernel, fns = ...
local next, pcall, rawget, type = next, pcall, rawget, type
local pack = table.pack
local raise = kernel.raise

local MAX_NESTING = 32

-- The result of a host call made through pcall; a failure is raised at the script's line (the
-- caller of the function that called check).
local function check(ok, ...)
  if ok then
    return ...
  end
  raise((...), 3)
end

local WorkflowClass = kernel.class("Workflow")
local is_workflow = WorkflowClass.is_instance

local function instance(info)
  if info == nil then
    return nil
  end
  return WorkflowClass.new(info)
end

---------------------------------------------------------------------------------------------
-- Preparing definitions: copy-on-write, so tables without instances cross unchanged.
---------------------------------------------------------------------------------------------
local function with(original, copy, key, value)
  if copy == original then
    copy = {}
    for k, v in next, original do
      copy[k] = v
    end
  end
  copy[key] = value
  return copy
end

local function fields_of(host_instance)
  local fields = {}
  for k, v in next, host_instance do
    if k ~= "__class" then
      fields[k] = v
    end
  end
  return fields
end

local prepare_definition

local function prepare_step(step, depth)
  if type(step) ~= "table" then
    return step
  end
  local out = step
  local nested = rawget(step, "workflow")
  if is_workflow(nested) then
    out = with(step, out, "workflow", rawget(nested, "id"))
  elseif type(nested) == "table" then
    local prepared = prepare_definition(nested, depth + 1)
    if prepared ~= nested then
      out = with(step, out, "workflow", prepared)
    end
  end
  local agent = rawget(step, "agent")
  if type(agent) == "table" and rawget(agent, "__class") ~= nil then
    out = with(step, out, "agent", fields_of(agent))
  end
  return out
end

local function prepare_steps(steps, depth)
  if type(steps) ~= "table" then
    return steps
  end
  local out = steps
  for k, step in next, steps do
    local prepared = prepare_step(step, depth)
    if prepared ~= step then
      out = with(steps, out, k, prepared)
    end
  end
  return out
end

prepare_definition = function(definition, depth)
  if type(definition) ~= "table" or depth > MAX_NESTING then
    return definition
  end
  local out = definition
  for _, field in next, { "steps", "body", "default" } do
    local steps = rawget(definition, field)
    local prepared = prepare_steps(steps, depth)
    if prepared ~= steps then
      out = with(definition, out, field, prepared)
    end
  end
  local branches = rawget(definition, "branches")
  if type(branches) == "table" then
    local new_branches = branches
    for k, branch in next, branches do
      if type(branch) == "table" then
        local steps = rawget(branch, "steps")
        local prepared = prepare_steps(steps, depth)
        if prepared ~= steps then
          new_branches = with(branches, new_branches, k, with(branch, branch, "steps", prepared))
        end
      end
    end
    if new_branches ~= branches then
      out = with(definition, out, "branches", new_branches)
    end
  end
  return out
end

---------------------------------------------------------------------------------------------
-- Instances
---------------------------------------------------------------------------------------------
local function define(names, fn)
  for _, name in next, names do
    WorkflowClass.method(name, fn)
  end
end

local execute = fns.execute
define({ "execute" }, function(self, input, options)
  local result = check(pcall(execute, rawget(self, "id"), input, options))
  return result
end)

local function forward(names, host_fn)
  define(names, function(self, ...)
    local result = check(pcall(host_fn, rawget(self, "id"), ...))
    return result
  end)
end
forward({ "set_shared_data", "setSharedData" }, fns.set_shared_data)
forward({ "get_output", "getOutput" }, fns.get_output)
forward({ "get_all_outputs", "getAllOutputs" }, fns.get_all_outputs)
forward({ "get_execution_id", "getExecutionId" }, fns.get_execution_id)
forward({ "validate" }, fns.validate)
forward({ "get_info", "getInfo" }, fns.get_info)

---------------------------------------------------------------------------------------------
-- The builder records its setter calls; build() replays them on the host's builder.
---------------------------------------------------------------------------------------------
local SETTERS = {
  name = "name",
  description = "description",
  type = "type",
  sequential = "sequential",
  parallel = "parallel",
  conditional = "conditional",
  loop = "loop",
  add_step = "add_step",
  addStep = "add_step",
  add_branch = "add_branch",
  addBranch = "add_branch",
  condition = "condition",
  add_then_step = "add_then_step",
  addThenStep = "add_then_step",
  add_else_step = "add_else_step",
  addElseStep = "add_else_step",
  error_strategy = "error_strategy",
  errorStrategy = "error_strategy",
  retry = "retry",
  timeout = "timeout",
  max_concurrency = "max_concurrency",
  maxConcurrency = "max_concurrency",
  iterations = "iterations",
  range = "range",
  collection = "collection",
  while_condition = "while_condition",
  whileCondition = "while_condition",
  break_condition = "break_condition",
  breakCondition = "break_condition",
  max_iterations = "max_iterations",
  maxIterations = "max_iterations",
  shared_data = "shared_data",
  sharedData = "shared_data",
}
local STEP_SETTERS = { add_step = true, add_then_step = true, add_else_step = true }

local Builder = kernel.class("WorkflowBuilder")
for spelling, method in next, SETTERS do
  Builder.method(spelling, function(self, ...)
    local args = pack(...)
    if STEP_SETTERS[method] then
      args[1] = prepare_step(args[1], 0)
    elseif method == "add_branch" then
      args[2] = prepare_steps(args[2], 0)
    end
    local calls = rawget(self, "calls")
    calls[#calls + 1] = { method = method, args = args }
    return self
  end)
end

local build = fns.build
Builder.method("build", function(self)
  local info = check(pcall(build, rawget(self, "calls")))
  return instance(info)
end)

---------------------------------------------------------------------------------------------
-- The global
---------------------------------------------------------------------------------------------
local Workflow = {}

local function table_form(kind)
  local create = fns[kind]
  return function(definition)
    if definition == Workflow then
      raise("ValidationError: use Workflow." .. kind .. "{...}, not Workflow:" .. kind .. "{...}", 2)
    end
    local info = check(pcall(create, prepare_definition(definition, 0)))
    return instance(info)
  end
end

local function host_call(host_fn, wrap)
  return function(...)
    local result = check(pcall(host_fn, ...))
    if wrap then
      return instance(result)
    end
    return result
  end
end

Workflow.builder = function()
  return Builder.new({ calls = {} })
end
Workflow.sequential = table_form("sequential")
Workflow.parallel = table_form("parallel")
Workflow.conditional = table_form("conditional")
Workflow.loop = table_form("loop")
Workflow.from_file = host_call(fns.from_file, true)
Workflow.fromFile = Workflow.from_file
Workflow.get = host_call(fns.get, true)
Workflow.list = host_call(fns.list, false)
Workflow.types = host_call(fns.types, false)

return Workflow
