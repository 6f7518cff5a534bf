-- Agent global: the builder, Agent.create/register/get/list/wrap_as_tool, and instances whose
-- ':' methods call the host with the instance's handle. The three streaming shapes share one
-- mechanism: a loop that pulls the agent's chunks one scheduler wait at a time.
local kernel, fns = ...
local raise, marks = kernel.raise, kernel.marks
local type, rawget, pairs, ipairs, next, pcall = type, rawget, pairs, ipairs, next, pcall
local setmetatable, tostring, isyieldable = setmetatable, tostring, coroutine.isyieldable

-- Errors raised by host calls made here are re-raised at the script's line: `depth` counts the
-- adapter functions between the script and the caller of `try` (1: called by the script).
local function try(depth, ok, ...)
  if ok then
    return ...
  end
  raise((...), depth + 2)
end

local AgentClass = kernel.class("Agent")

local function instance(handle)
  return AgentClass.new({ id = handle.id, name = handle.name })
end

local function ref(value)
  if AgentClass.is_instance(value) then
    return rawget(value, "id")
  end
  return value
end

-- Tool lists may hold tool objects (Tool.get(...)): the host needs their names.
local TOOL_KEYS = { tools = true, allowed_tools = true, allowedTools = true }

local function tool_names(list)
  local names = {}
  for i, item in ipairs(list) do
    names[i] = type(item) == "table" and item.name or item
  end
  if next(names) == nil then
    marks[names] = "array"
  end
  return names
end

local function plain_spec(spec)
  if type(spec) ~= "table" then
    return spec
  end
  local out = {}
  for key, value in pairs(spec) do
    if TOOL_KEYS[key] and type(value) == "table" then
      value = tool_names(value)
    end
    out[key] = value
  end
  return out
end

---------------------------------------------------------------------------------------------
-- The builder: every setter stores a config field and returns the builder.
---------------------------------------------------------------------------------------------
local Builder = kernel.class("AgentBuilder")

local SETTERS = {
  name = "name",
  description = "description",
  model = "model",
  provider = "provider",
  system_prompt = "system_prompt",
  systemPrompt = "system_prompt",
  temperature = "temperature",
  max_tokens = "max_tokens",
  maxTokens = "max_tokens",
  max_conversation_length = "max_conversation_length",
  maxConversationLength = "max_conversation_length",
  base_url = "base_url",
  baseUrl = "base_url",
  api_key = "api_key",
  apiKey = "api_key",
  max_tool_calls = "max_tool_calls",
  maxToolCalls = "max_tool_calls",
  max_execution_time = "max_execution_time",
  maxExecutionTime = "max_execution_time",
  resource_limits = "resource_limits",
  resourceLimits = "resource_limits",
  custom_config = "custom_config",
  customConfig = "custom_config",
  type = "type",
  streaming = "streaming",
  context = "context",
}

for method, field in pairs(SETTERS) do
  Builder.method(method, function(self, value)
    rawget(self, "fields")[field] = value
    return self
  end)
end

local function set_tools(self, list)
  if type(list) == "table" then
    list = tool_names(list) -- a copy: allow_tool must not grow the script's own table
  end
  rawget(self, "fields").allowed_tools = list
  return self
end
for _, method in ipairs({ "allowed_tools", "allowedTools", "tools" }) do
  Builder.method(method, set_tools)
end

local function allow_tool(self, name)
  local fields = rawget(self, "fields")
  local list = fields.allowed_tools
  if type(list) ~= "table" then
    list = {}
    fields.allowed_tools = list
  end
  list[#list + 1] = name
  return self
end
Builder.method("allow_tool", allow_tool)
Builder.method("allowTool", allow_tool)

Builder.method("build", function(self)
  local handle = try(1, pcall(fns.create, plain_spec(rawget(self, "fields"))))
  return instance(handle)
end)

---------------------------------------------------------------------------------------------
-- Streams: one chunk per scheduler wait. A generic for closes the stream when left early.
---------------------------------------------------------------------------------------------
local open_stream, next_chunk = fns.open_stream, fns.next_chunk
local close_stream, release_stream, stream_output = fns.close_stream, fns.release_stream, fns.stream_output

local Closer = { __metatable = false }
Closer.__close = function(closer)
  local id = rawget(closer, "id")
  if isyieldable() then
    close_stream(id)
  else
    release_stream(id)
  end
end

local function closer(id)
  return setmetatable({ id = id }, Closer)
end

-- The host sends a text chunk as {stream_id, chunk_index, text, timestamp, metadata} (cheaper to
-- convert than the table); other chunks come whole.
local function expand(c)
  local text = c[3]
  if text == nil then
    return c
  end
  return {
    stream_id = c[1],
    chunk_index = c[2],
    text = text,
    content = { type = "text", text = text },
    metadata = c[5],
    timestamp = c[4],
  }
end

local function next_of(id)
  local c = next_chunk(id)
  if c == nil then
    return nil
  end
  return expand(c)
end

local function stream_execute(self, input)
  local id = try(1, pcall(open_stream, rawget(self, "id"), input))
  local done = false
  local function step()
    if done then
      return nil
    end
    -- Called by the script's for loop, so a failed wait is raised at the script's line.
    local chunk = next_chunk(id)
    if chunk == nil then
      done = true
      return nil
    end
    return expand(chunk)
  end
  return step, nil, nil, closer(id)
end
AgentClass.method("stream_execute", stream_execute)
AgentClass.method("streamExecute", stream_execute)

-- Feeds every chunk to `callback` (called by a method the script called); returns the number
-- of chunks and the call's output.
local function consume(self, input, callback, where)
  if type(callback) ~= "function" then
    raise("ValidationError: " .. where .. ": the stream callback must be a function, got "
      .. type(callback), 3)
  end
  local id = try(2, pcall(open_stream, rawget(self, "id"), input))
  local guard <close> = closer(id)
  local received = 0
  while true do
    local chunk = try(2, pcall(next_of, id))
    if chunk == nil then
      break
    end
    received = received + 1
    callback(chunk)
  end
  local output = try(2, pcall(stream_output, id))
  return received, output
end

local function invoke_stream(self, input, callback)
  local received, output = consume(self, input, callback, "agent:invokeStream")
  return { success = true, chunks_received = received, text = output.text }
end
AgentClass.method("invokeStream", invoke_stream)
AgentClass.method("invoke_stream", invoke_stream)

local execute = fns.execute
AgentClass.method("execute", function(self, input, options)
  if options == nil then
    return execute(rawget(self, "id"), input)
  end
  if type(options) ~= "table" then
    raise("ValidationError: agent:execute: options must be a table {stream = function}, got "
      .. type(options), 2)
  end
  for key in pairs(options) do
    if key ~= "stream" then
      raise("ValidationError: agent:execute: unknown option '" .. tostring(key)
        .. "' (known: stream)", 2)
    end
  end
  if options.stream == nil then
    return execute(rawget(self, "id"), input)
  end
  local _, output = consume(self, input, options.stream, "agent:execute")
  return output
end)

---------------------------------------------------------------------------------------------
-- Methods that call the host with the handle, in both spellings.
---------------------------------------------------------------------------------------------
local METHODS = {
  supports_streaming = { "supports_streaming", "supportsStreaming" },
  supports_multimodal = { "supports_multimodal", "supportsMultimodal" },
  supported_media_types = { "supported_media_types", "supportedMediaTypes" },
  get_config = { "get_config", "getConfig" },
  get_history = { "get_history", "getHistory" },
  clear_history = { "clear_history", "clearHistory" },
  get_metrics = { "get_metrics", "getMetrics" },
  get_state = { "get_state", "getState" },
  info = { "get_info", "getInfo" },
  invoke_tool = { "invokeTool", "invoke_tool" },
  discover_tools = { "discover_tools", "discoverTools" },
  has_tool = { "has_tool", "hasTool" },
  save_state = { "save_state", "saveState" },
  load_state = { "load_state", "loadState" },
  summarize = { "summarize" },
}

for host_name, spellings in pairs(METHODS) do
  local host_fn = fns[host_name]
  local function method(self, ...)
    return host_fn(rawget(self, "id"), ...)
  end
  for _, spelling in ipairs(spellings) do
    AgentClass.method(spelling, method)
  end
end

---------------------------------------------------------------------------------------------
-- The global.
---------------------------------------------------------------------------------------------
local Agent = {}

function Agent.builder()
  return Builder.new({ fields = {} })
end

function Agent.create(spec)
  local handle = try(1, pcall(fns.create, plain_spec(spec)))
  return instance(handle)
end

function Agent.register(spec)
  local name = try(1, pcall(fns.register, plain_spec(spec)))
  return name
end

function Agent.get(name)
  local handle = try(1, pcall(fns.get, name))
  if handle == nil then
    return nil
  end
  return instance(handle)
end

function Agent.wrap_as_tool(agent, options)
  local name = try(1, pcall(fns.wrap_as_tool, ref(agent), options))
  return name
end

Agent.list = fns.list
Agent.list_instances = fns.list_instances
Agent.listInstances = fns.list_instances
Agent.get_info = fns.get_info
Agent.getInfo = fns.get_info
Agent.wrapAsTool = Agent.wrap_as_tool

return Agent
