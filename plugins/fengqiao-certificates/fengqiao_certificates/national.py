"""The first national batch of certificates communities must not issue (民发〔2020〕20号
annex, 20 items), seeded as the ``national`` list that every jurisdiction inherits.

Seeding is idempotent and lazy (first use, ``fengqiao certificates seed``): the list is data,
so a truncated or freshly migrated database gets it back without a migration re-run.
"""

from __future__ import annotations

import sqlalchemy as sa
from fengqiao.sdk.models import db, utcnow
from sqlalchemy.exc import IntegrityError

from fengqiao_certificates.models import (
    MUST_NOT_ISSUE,
    NATIONAL,
    PUBLISHED,
    CertificateItem,
    CertificateList,
)

SOURCE = "民政部等六部门《关于改进和规范基层群众性自治组织出具证明工作的指导意见》（民发〔2020〕20号）"
TITLE = "基层群众性自治组织不应出具证明事项清单（第一批）"
REASON = "无法律法规依据，且不属于村（居）民委员会职责范围"

# (name, referral): where the resident gets it instead.
ITEMS: tuple[tuple[str, str], ...] = (
    ("亲属关系证明", "可凭户口簿、结婚证、出生医学证明等材料证明；确需出具的，向公证机构申请办理亲属关系公证。"),
    ("居民身份信息证明", "凭居民身份证、户口簿证明；有疑问的由户籍所在地公安派出所核查。"),
    ("户口登记项目内容变更申请证明", "向户籍所在地公安派出所申请，由公安机关依法核查办理。"),
    ("居民养犬证明", "向所在地公安机关（或城市管理部门）办理犬只登记，按养犬管理规定执行。"),
    ("无犯罪记录证明", "向户籍所在地或经常居住地公安机关申请开具。"),
    ("社区戒毒社区康复人员情况证明", "由负责社区戒毒、社区康复工作的乡镇人民政府、街道办事处或公安机关依职责出具。"),
    ("人员失踪证明", "向公安机关报案，由公安机关出具报案回执；宣告失踪向人民法院申请。"),
    ("婚姻状况证明", "凭婚姻登记证件或户口簿婚姻状况栏证明；需查询婚姻登记档案的向婚姻登记机关申请。"),
    ("出生证明", "由接生的医疗机构签发《出生医学证明》。"),
    ("健在证明", "本人到场或通过视频、社保部门生存认证等方式核实，不需社区证明。"),
    ("死亡证明", "由医疗卫生机构出具《居民死亡医学证明（推断）书》；非正常死亡由公安机关出具。"),
    ("疾病状况证明", "由具有资质的医疗机构出具诊断证明。"),
    ("残疾状况证明", "凭残疾人证；残疾评定由残联指定机构办理。"),
    ("婚育状况证明", "实行告知承诺制，由申请人书面承诺；需核查的由卫生健康部门通过信息共享核查。"),
    ("居民就业状况证明", "由人力资源社会保障部门（就业服务机构）依据就业失业登记等信息出具或核查。"),
    ("居民个人档案证明", "向档案保管单位（人事档案管理机构、人才服务机构等）申请。"),
    ("居民财产证明", "不动产向不动产登记机构查询，存款等向相关金融机构申请开具。"),
    ("遗产继承权证明", "向公证机构申请办理继承公证，或通过人民法院诉讼确认。"),
    ("市场主体住所证明", "实行住所申报承诺制，由申请人提交住所使用相关文件或书面承诺，市场监管部门核查。"),
    ("证件遗失证明", "向原发证机关申请挂失补办，可通过登报声明或书面承诺代替。"),
)


def national_list() -> CertificateList | None:
    return db.scalar(sa.select(CertificateList).where(CertificateList.org_code == NATIONAL)
                     .order_by(CertificateList.version).limit(1))


def ensure_seeded() -> bool:
    """Create the national list (version 1, published) unless it exists. Returns True when
    it was created now. Safe under concurrency: the (org_code, version) key decides."""
    if db.scalar(sa.select(CertificateList.id).where(CertificateList.org_code == NATIONAL).limit(1)):
        return False
    now = utcnow()
    try:
        with db.begin_nested():
            listing = CertificateList(
                org_code=NATIONAL, version=1, status=PUBLISHED, title=TITLE, source_document=SOURCE,
                effective_from=None, created_at=now, created_by=None, published_at=now, published_by=None)
            listing.items = [
                CertificateItem(position=i, kind=MUST_NOT_ISSUE, name=name, reason=REASON, referral=referral,
                                applicants="", materials="", template="")
                for i, (name, referral) in enumerate(ITEMS)
            ]
            db.add(listing)
        db.commit()
    except IntegrityError:  # another process seeded it at the same moment
        db.rollback()
        return False
    return True
