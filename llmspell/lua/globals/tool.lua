-- Tool global: Tool.execute/invoke, Tool.get(name) objects with :execute, Tool.<name> shortcuts.
local kernel, fns = ...
local execute, get = fns.execute, fns.get
local rawget, setmetatable, type = rawget, setmetatable, type

local ToolObject = kernel.class("ToolObject")
ToolObject.method("execute", function(self, params)
  return execute(rawget(self, "name"), params)
end)
ToolObject.methods.invoke = ToolObject.methods.execute

local function tool_object(name)
  local info = get(name)
  if info == nil then
    return nil
  end
  return ToolObject.new(info)
end

local Tool = {
  execute = execute,
  invoke = execute,
  get = tool_object,
  list = fns.list,
  discover = fns.discover,
  exists = fns.exists,
  categories = fns.categories,
  register = fns.register,
}

return setmetatable(Tool, {
  __index = function(_, name)
    if type(name) == "string" then
      return tool_object(name)
    end
  end,
})
