"""fengqiao-certificates (证明事项清单): which certificates a community may issue and which it
must not, requests routed by those lists, and verifiable certificates.

Imports only ``fengqiao.sdk`` from the core (plus Flask, SQLAlchemy, click and openpyxl).
"""

from __future__ import annotations

from fengqiao.sdk.events import case_created, case_transitioned
from fengqiao.sdk.plugin import Plugin

# Importing the models registers the plugin's tables on its own metadata.
from fengqiao_certificates.models import (
    CertificateItem,
    CertificateList,
    CertificateRequest,
    IssuedCertificate,
)

__all__ = ["CertificateItem", "CertificateList", "CertificateRequest", "CertificatesPlugin", "IssuedCertificate"]


def render_widget() -> str:
    from fengqiao_certificates.metrics import widget

    return widget()


class CertificatesPlugin(Plugin):
    name = "certificates"
    title = "证明事项清单"
    description = "公示社区可以出具和不应出具的证明，按清单受理证明申请，出具可扫码核验的证明。"
    api_version = ">=1.3,<2"
    form_definitions = "form_definitions"
    templates = "templates"
    static = "static"
    migrations = "migrations"

    def blueprint(self):
        from fengqiao_certificates.views import pages

        return pages

    def api_blueprint(self):
        from fengqiao_certificates.api import api

        return api

    def cli(self):
        from fengqiao_certificates.cli import certificates

        return certificates

    def setup(self, ctx) -> None:
        from fengqiao_certificates.demo import seed_demo_lists
        from fengqiao_certificates.requests import on_case_created, on_case_transitioned

        ctx.connect(case_created, on_case_created)
        ctx.connect(case_transitioned, on_case_transitioned)
        ctx.add_permission("manage", "编辑和发布证明事项清单", roles=("staff", "supervisor"))
        ctx.add_permission("view", "查看证明申请统计与已出具证明", roles=("staff", "supervisor", "viewer"))
        ctx.add_permission("revoke", "撤销已出具的证明", roles=("staff",))
        ctx.add_menu_item("p_certificates.admin_index", "证明事项清单", permission="certificates.view")
        ctx.add_public_link("p_certificates.posting", "证明事项清单", "本社区（村）可以开具和不应开具的证明")
        ctx.add_public_link("p_certificates.verify_form", "证明核验", "输入证明上的核验码，辨别真伪")
        ctx.add_widget("summary", "证明事项", render_widget, permission="certificates.view")
        ctx.add_demo_data(seed_demo_lists)
