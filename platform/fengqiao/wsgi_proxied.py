"""``gunicorn fengqiao.wsgi_proxied:app``: the WSGI app behind exactly one reverse proxy.

gunicorn's ``forwarded_allow_ips`` fixes only the scheme; ``ProxyFix`` also takes the client
address (rate limits count per resident, not per proxy) and host from the proxy's
``X-Forwarded-*`` headers. Use it only behind a proxy that sets them: a client talking to
gunicorn directly could otherwise pick its own address.
"""

from werkzeug.middleware.proxy_fix import ProxyFix

from fengqiao.wsgi import app

app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
