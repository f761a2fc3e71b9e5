# layers/frontend/configure.sh.j2 rendered for stage1-configure (stack staging)
# frontend configure: certificates (every '{{ … }}' is shell-quoted by the renderer), then each config validated before it replaces the running one, then reloaded.
sk_install /etc/haproxy/haproxy.cfg --validate "haproxy -c -q -f {}" --on-change "systemctl reload-or-restart haproxy"
sk_install /etc/varnish/default.vcl --validate "varnishd -j none -C -f {} >/dev/null" \
  --on-change "systemctl reload-or-restart varnish"
sk_install /etc/nginx/nginx.conf --validate "nginx -t -q -c {}" --on-change "systemctl reload-or-restart nginx"
systemctl start haproxy varnish nginx
sk_wait_http http://127.0.0.1/stackkit-health 30

# --- staged /etc/nginx/nginx.conf (from nginx.conf.j2)
# stackkit: generated for stage1 by layers/frontend/nginx.conf.j2 — edits are overwritten by configure
user www-data;
worker_processes auto;
pid /run/nginx.pid;
error_log /var/log/nginx/error.log;

events {
    worker_connections 1024;
}

http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    server_tokens off;
    keepalive_timeout 65;
    client_max_body_size 64m;
    access_log /var/log/nginx/access.log;
    gzip on;
    gzip_vary on;
    gzip_proxied any;
    gzip_types text/plain text/css application/json application/javascript text/xml application/xml text/javascript image/svg+xml;

    upstream varnish {
        server 127.0.0.1:6081;
        keepalive 32;
    }

    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host $host;
    proxy_set_header X-Real-IP $remote_addr;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto $scheme;
    proxy_set_header X-Forwarded-Host $host;
    proxy_read_timeout 300s;

    # any other name (an address, the load balancer's DNS name) is served as the first app's first domain is (its
    # Plone site, or its redirect to HTTPS); and the load balancer's health check
    server {
        listen 80 default_server;
        server_name _;
        location = /stackkit-health {
            access_log off;
            default_type text/plain;
            return 200 "ok\n";
        }
        location / {
            rewrite ^/(.*)$ /VirtualHostBase/$scheme/$host:$server_port/Plone/VirtualHostRoot/$1 break;
            proxy_pass http://varnish;
        }
        # the front page is the site's; while the app has no such site (a Zope app that is not Plone yet), Zope's own
        # root answers instead of a 404 (a Plone site's front page is never a 404)
        location = / {
            rewrite ^/(.*)$ /VirtualHostBase/$scheme/$host:$server_port/Plone/VirtualHostRoot/$1 break;
            proxy_pass http://varnish;
            proxy_intercept_errors on;
            error_page 404 = @zope_root;
        }
        location @zope_root {
            rewrite ^ / break;
            proxy_pass http://varnish;
        }
    }

    # app site
    server {
        listen 80;
        server_name staging.example.org;
        location / {
            rewrite ^/(.*)$ /VirtualHostBase/$scheme/$host:$server_port/Plone/VirtualHostRoot/$1 break;
            proxy_pass http://varnish;
        }
        # as in the default server: the site's front page, else Zope's root
        location = / {
            rewrite ^/(.*)$ /VirtualHostBase/$scheme/$host:$server_port/Plone/VirtualHostRoot/$1 break;
            proxy_pass http://varnish;
            proxy_intercept_errors on;
            error_page 404 = @zope_root;
        }
        location @zope_root {
            rewrite ^ / break;
            proxy_pass http://varnish;
        }
    }
}

# --- staged /etc/varnish/default.vcl (from default.vcl.j2)
# stackkit: generated for stage1 by layers/frontend/default.vcl.j2 — edits are overwritten by configure
vcl 4.1;

import std;

backend haproxy {
    .host = "127.0.0.1";
    .port = "8080";
    .connect_timeout = 5s;
    .first_byte_timeout = 300s;
    .between_bytes_timeout = 60s;
}

# who may PURGE and BAN: this host and the Zope clients of the plone layer
acl purge {
    "127.0.0.1";
    "10.67.84.23";
}

sub vcl_recv {
    if (req.method == "PURGE") {
        if (!client.ip ~ purge) { return (synth(405, "Not allowed")); }
        return (purge);
    }
    if (req.method == "BAN") {
        if (!client.ip ~ purge) { return (synth(405, "Not allowed")); }
        ban("obj.http.x-url ~ " + req.http.x-ban-url);
        return (synth(200, "Banned"));
    }
    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);
    }
    # logged-in users and anything with credentials bypass the cache
    if (req.http.Authorization || req.http.Cookie ~ "(^|;\s*)(__ac|_ZopeId|auth_token)=") {
        return (pass);
    }
    if (req.url ~ "/manage|/login|@@") {
        return (pass);
    }
    unset req.http.Cookie;
    return (hash);
}

sub vcl_backend_response {
    set beresp.http.x-url = bereq.url;
    set beresp.grace = 3600s;
    if (beresp.status >= 500) {
        set beresp.ttl = 0s;
        set beresp.uncacheable = true;
        return (deliver);
    }
    if (beresp.http.Set-Cookie || beresp.http.Cache-Control ~ "private|no-cache|no-store") {
        set beresp.uncacheable = true;
        set beresp.ttl = 120s;
        return (deliver);
    }
    if (!beresp.http.Cache-Control) {
        set beresp.ttl = 120s;
    }
    return (deliver);
}

sub vcl_deliver {
    unset resp.http.x-url;
    if (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
}

# --- staged /etc/haproxy/haproxy.cfg (from haproxy.cfg.j2)
# stackkit: generated for stage1 by layers/frontend/haproxy.cfg.j2 — edits are overwritten by configure
global
    log /dev/log local0
    master-worker
    stats socket /run/haproxy/admin.sock mode 660 level admin expose-fd listeners
    stats timeout 30s
    user haproxy
    group haproxy

defaults
    log global
    mode http
    option httplog
    option dontlognull
    option redispatch
    retries 3
    timeout connect 5s
    timeout client 60s
    timeout server 300s
    timeout queue 60s

frontend zope
    bind 127.0.0.1:8080
    default_backend plone

backend plone
    balance leastconn
    option httpchk GET /
    http-check expect status 200-399
    default-server inter 2s fastinter 1s rise 2 fall 2 agent-check agent-port 8099 agent-inter 1s
    server stage1-8081 10.67.84.23:8081 check maxconn 2
    server stage1-8082 10.67.84.23:8082 check maxconn 2

listen stats
    bind 127.0.0.1:8404
    stats enable
    stats uri /stats
    http-request return status 200 content-type text/plain string ok if { path /health }
