execute "restart" do
  command "systemctl restart shop"
end
