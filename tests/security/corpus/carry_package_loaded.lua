-- expect: ok
-- promise: 9
-- after: return package.loaded.evil == nil and package.preload.json == nil
package.loaded.evil = {} package.preload.json = function() return "evil" end return 1
