# Renders an ERB template against /etc/stackkit/node.json the way a Chef 11.10 recipe's `template` resource did:
# `node` answers to symbol and string keys alike (Chef's node attributes), `@deploy` / `@application` /
# `@database` / `@memcached` are the variables OpsWorks' built-in recipes passed (deploy[app] and its parts).
#   ruby render.rb TEMPLATE NODE_JSON [APP]
require "erb"
require "json"

# Chef's Mash, enough of it: keys are strings, read by symbol or string; missing keys are nil
class Mash < Hash
  def self.from(value)
    case value
    when Hash then value.each_with_object(Mash.new) { |(k, v), m| m[k.to_s] = Mash.from(v) }
    when Array then value.map { |v| Mash.from(v) }
    else value
    end
  end

  def [](key) = super(key.to_s)
  def key?(key) = super(key.to_s)
  def fetch(key, *rest, &block) = super(key.to_s, *rest, &block)
end

template, json, app = ARGV
node = Mash.from(JSON.parse(File.read(json)))
if app
  @application = app
  @deploy = node[:deploy].fetch(app)
  @database = @deploy.fetch(:database)
  @memcached = @deploy.fetch(:memcached)
  @environment = "production"
end
print ERB.new(File.read(template), trim_mode: "-").result(binding)
