-- Hook global: Hook.register returns a handle with :id() and :unregister().
local kernel, fns = ...
local register, unregister = fns.register, fns.unregister
local rawget = rawget

local HookHandle = kernel.class("HookHandle")
HookHandle.method("id", function(self)
  return rawget(self, "hook_id")
end)
HookHandle.method("unregister", function(self)
  return unregister(rawget(self, "hook_id"))
end)

local function hook_id(handle)
  if HookHandle.is_instance(handle) then
    return rawget(handle, "hook_id")
  end
  return handle
end

return {
  register = function(point, fn, priority, name)
    return HookHandle.new(register(point, fn, priority, name))
  end,
  unregister = function(handle)
    return unregister(hook_id(handle))
  end,
  list = fns.list,
  points = fns.points,
}
