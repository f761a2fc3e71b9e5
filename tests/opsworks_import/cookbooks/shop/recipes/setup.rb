# a custom recipe of our own for the --cookbooks scan
package "nginx"
template "/etc/nginx/sites-enabled/shop" do
  source "shop.conf.erb"
  variables(workers: node[:shop][:workers], region: node["opsworks"]["stack"]["region"])
end
