"""Every user-facing string of the panels and notebooks, in English and Simplified Chinese: key -> (en, zh).

Kept as one Python dict (not data files) so it ships inside the package on Binder without package-data set-up,
and a test checks that every key has both languages and that every key used in `marketplace.ui` exists.
Vocabulary values are shown through `enum.<value>` keys; the stored values stay the English words of
DESIGN.md.
"""

from __future__ import annotations

ENUMS: dict[str, tuple[str, str]] = {
    # organization kinds and sizes
    "department": ("department", "政务部门"),
    "institution": ("public institution", "公共机构"),
    "enterprise": ("enterprise", "企业"),
    "research": ("research", "科研"),
    "nonprofit": ("nonprofit", "非营利组织"),
    "operator": ("operator", "运营方"),
    "regulator": ("regulator", "监管方"),
    "micro": ("micro", "微型"),
    "small": ("small", "小型"),
    "medium": ("medium", "中型"),
    "large": ("large", "大型"),
    # roles
    "requester": ("requester", "申请方"),
    "steward": ("steward", "数据持有方审核员"),
    "security_reviewer": ("security reviewer", "安全审查员"),
    "registrar": ("registrar", "登记机构"),
    "trainer": ("trainer", "培训管理员"),
    # grades and attributes
    "general": ("general", "一般数据"),
    "important": ("important", "重要数据"),
    "core": ("core", "核心数据"),
    "unconditional": ("unconditional", "无条件"),
    "conditional": ("conditional", "有条件"),
    "not_shared": ("not shared", "不予共享"),
    "not_open": ("not open", "不予开放"),
    # fields
    "identifier": ("identifier", "直接标识符"),
    "quasi_identifier": ("quasi-identifier", "准标识符"),
    "sensitive": ("sensitive", "敏感属性"),
    "other": ("other", "其他"),
    "string": ("text", "文本"),
    "integer": ("integer", "整数"),
    "number": ("number", "数值"),
    "date": ("date", "日期"),
    "category": ("category", "类别"),
    "boolean": ("yes/no", "是/否"),
    # channels and purposes
    "sharing": ("sharing", "共享"),
    "opening": ("opening", "开放"),
    "authorized_operation": ("authorized operation", "授权运营"),
    "public_governance": ("public governance", "公共治理"),
    "public_welfare": ("public welfare", "公益事业"),
    "industry_development": ("industry development", "产业发展"),
    "sector_development": ("sector development", "行业发展"),
    # registrations
    "initial": ("initial", "首次登记"),
    "change": ("change", "变更登记"),
    "correction": ("correction", "更正登记"),
    "deregistration": ("deregistration", "注销登记"),
    "submitted": ("submitted", "已提交"),
    "accepted": ("accepted", "已受理"),
    "under_review": ("under review", "审核中"),
    "public_notice": ("public notice", "公示中"),
    "registered": ("registered", "已登记"),
    "rejected": ("rejected", "已驳回"),
    "changed": ("changed", "已变更"),
    "corrected": ("corrected", "已更正"),
    "deregistered": ("deregistered", "已注销"),
    "expired": ("expired", "已过期"),
    "resource": ("resource", "数据资源"),
    "product": ("product", "数据产品"),
    # authorizations and products
    "overall": ("overall", "整体授权"),
    "by_sector": ("by sector", "分领域授权"),
    "by_scenario": ("by scenario", "分场景授权"),
    "proposed": ("proposed", "拟议中"),
    "agreed": ("agreed", "已签约"),
    "active": ("active", "有效"),
    "terminated": ("terminated", "已终止"),
    "dataset": ("dataset", "数据集"),
    "api": ("API", "数据接口"),
    "report": ("report", "数据报告"),
    "per_product": ("per product", "按产品"),
    "per_call": ("per call", "按调用次数"),
    "per_month": ("per month", "按月"),
    "per_record": ("per record", "按记录条数"),
    "draft": ("draft", "草稿"),
    "priced": ("priced", "已定价"),
    "listed": ("listed", "已上架"),
    "withdrawn": ("withdrawn", "已撤回"),
    # requests and reviews
    "in_review": ("in review", "审查中"),
    "returned": ("returned", "已退回"),
    "approved": ("approved", "已批准"),
    "approved_with_conditions": ("approved with conditions", "附条件批准"),
    "granted": ("granted", "已授予许可"),
    "delivered": ("delivered", "已交付"),
    "revoked": ("revoked", "已撤销"),
    "compliance": ("compliance check", "合规审查"),
    "holder": ("data holder review", "持有方审核"),
    "security": ("security review", "安全审查"),
    "pending": ("pending", "待处理"),
    "decided": ("decided", "已决定"),
    "deemed": ("deemed decided", "视为已决定"),
    "escalated": ("escalated", "已升级"),
    "cancelled": ("cancelled", "已取消"),
    "approve": ("approve", "批准"),
    "approve_with_conditions": ("approve with conditions", "附条件批准"),
    "reject": ("reject", "驳回"),
    "return_for_revision": ("return for revision", "退回修改"),
    "deidentify": ("de-identify", "去标识化"),
    "aggregate": ("aggregate", "聚合"),
    "fields": ("only these fields", "限定字段"),
    "no_onward_transfer": ("no onward transfer", "禁止再转让"),
    "expires_after": ("expires after", "到期失效"),
    "report_usage": ("report usage", "报告使用情况"),
    "no_commercial_use": ("no commercial use", "不得用于商业用途"),
    "publish_results": ("publish the results", "公开使用成果"),
    "offered": ("offered", "已报价"),
    "superseded": ("superseded", "已作废"),
    "rows": ("rows", "明细数据"),
    "ok": ("ok", "成功"),
    # product transformations
    "deidentified": ("de-identified", "去标识化"),
    "aggregated": ("aggregated", "聚合统计"),
    "model": ("model output", "模型结果"),
    "raw": ("raw data", "原始数据"),
    "refused": ("refused", "被拒绝"),
}

COMMON: dict[str, tuple[str, str]] = {
    "common.error": ("Not done: {message}", "未完成：{message}"),
    "common.empty": ("Nothing to show.", "暂无内容。"),
    "common.refresh": ("Refresh", "刷新"),
    "common.previous": ("◀ Previous", "◀ 上一页"),
    "common.next": ("Next ▶", "下一页 ▶"),
    "common.page": ("Page {page} of {pages} · {total} items", "第 {page} / {pages} 页 · 共 {total} 项"),
    "common.acting_as": (
        "Acting as {name} ({org}) — roles: {roles}",
        "当前身份：{name}（{org}）— 角色：{roles}",
    ),
    "common.nobody": (
        "Nobody selected: choose an account in “Act as”.",
        "尚未选择身份：请在“切换身份”中选择账户。",
    ),
    "common.done": ("Done.", "已完成。"),
    "common.code": ("Code", "编号"),
    "common.title": ("Title", "名称"),
    "common.status": ("Status", "状态"),
    "common.channel": ("Channel", "渠道"),
    "common.purpose": ("Purpose", "用途"),
    "common.domain": ("Domain", "领域"),
    "common.grade": ("Grade", "分级"),
    "common.holder": ("Holder", "持有方"),
    "common.all": ("(all)", "（全部）"),
    "common.none": ("(none)", "（无）"),
    "common.year": ("Year", "年度"),
    "common.seed": ("Seed", "随机种子"),
    "common.name": ("Name", "名称"),
    "common.kind": ("Kind", "类型"),
    "common.price_cap": ("Price cap", "价格上限"),
    "common.actual_price": ("Actual price", "实际价格"),
    "common.billing_unit": ("Billing unit", "计费单位"),
    "common.operator": ("Operator", "运营方"),
    "common.valid_until": ("Valid until", "有效期至"),
    "common.metric": ("Metric", "指标"),
    "common.value": ("Value", "数值"),
}

START: dict[str, tuple[str, str]] = {
    "start.title": ("Public data marketplace sandbox", "公共数据市场沙盒"),
    "prose.start.intro": (
        "<p>This sandbox lets you <b>operate</b> and <b>study</b> a public data marketplace on synthetic "
        "data. "
        "Public data comes from government bodies and public institutions and reaches users through three "
        "channels: <b>sharing</b> (between departments, free), <b>opening</b> (to everyone, free) and "
        "<b>authorized operation</b> (an authorized operator makes products; free for public governance and "
        "public welfare, otherwise a fee not above a regulated cap).</p>"
        "<p>Everything here is synthetic and lives in your own sandbox database; nothing you do leaves "
        "it.</p>",
        "<p>本沙盒让您在合成数据上<b>运行</b>并<b>研究</b>一个公共数据市场。公共数据由政务部门和公共机构在履职或"
        "提供公共服务中产生，通过三种渠道供给：<b>共享</b>（部门之间，免费）、<b>开放</b>（面向社会，免费）和"
        "<b>授权运营</b>（由获授权的运营方加工成产品；用于公共治理和公益事业的免费，其他用途收费且不超过政府"
        "指导价上限）。</p><p>这里的一切都是合成数据，保存在您自己的沙盒数据库中，不会外传。</p>",
    ),
    "start.language_tooltip": ("Language of all panels", "所有面板的显示语言"),
    "start.roles_title": ("Who does what", "角色与职责"),
    "start.role_col": ("Role", "角色"),
    "start.does_col": ("What they do here", "在沙盒中做什么"),
    "start.role.requester": (
        "files requests for resources and products, accepts quotes",
        "提交数据资源或产品申请，接受报价",
    ),
    "start.role.steward": (
        "reviews requests for the data holder's resources, attaches conditions",
        "代表数据持有方审核申请，附加使用条件",
    ),
    "start.role.security_reviewer": (
        "checks security for authorized-operation requests",
        "对授权运营申请进行安全审查",
    ),
    "start.role.operator": (
        "makes products from authorized resources and sets prices under the cap",
        "利用授权数据加工产品，并在价格上限内定价",
    ),
    "start.role.registrar": (
        "registers resources and products and issues registration codes",
        "办理数据资源和产品登记，发放登记编号",
    ),
    "start.role.regulator": (
        "reads everything, sets price caps, watches revenue against the allowed maximum",
        "查看全部信息，设定价格上限，监督收入不超过最高准许收入",
    ),
    "start.role.trainer": (
        "administers the sandbox: clock, policy in force, reset",
        "管理沙盒：时钟、现行政策、重置",
    ),
    "start.tour_title": ("A five-minute tour", "五分钟导览"),
    "start.tour_intro": (
        "Open the steps in order; each one shows the panel you need.",
        "请依次展开各步骤，每一步都会显示所需的面板。",
    ),
    "start.step1": ("Choose who you are", "选择您的身份"),
    "start.step1.body": (
        "Act as a requester first — for example a researcher at a university.",
        "先以申请方身份操作，例如一名高校研究人员。",
    ),
    "start.step2": ("Browse the catalogue", "浏览数据目录"),
    "start.step2.body": (
        "Filter resources by domain, grade and channel; open one to see its fields and sample rows.",
        "按领域、分级和渠道筛选数据资源；打开一项即可查看字段和样例数据。",
    ),
    "start.step3": ("File a request and watch the quote", "提交申请并查看报价"),
    "start.step3.body": (
        "Change the purpose or the volume: the quote lines explain every component of the price.",
        "修改用途或数量：报价明细会逐项说明价格的构成。",
    ),
    "start.step4": ("Review as the data holder", "以持有方身份审核"),
    "start.step4.body": (
        "Switch to the steward in step 1, then approve, with conditions if needed.",
        "在第 1 步切换为持有方审核员，然后批准申请，必要时附加条件。",
    ),
    "start.step5": ("Read the public disclosure", "查看信息公开报告"),
    "start.step5.body": (
        "Every registration, authorization, cap and price is published once a year.",
        "所有登记、授权、价格上限和实际价格每年公开一次。",
    ),
}

ACTAS: dict[str, tuple[str, str]] = {
    "actas.title": ("Act as", "切换身份"),
    "actas.role": ("Role", "角色"),
    "actas.account": ("Account", "账户"),
    "actas.no_accounts": ("No account holds the role {role}.", "没有账户具有“{role}”角色。"),
}

PRIVACY: dict[str, tuple[str, str]] = {
    "privacy.title": ("Privacy lab", "隐私实验室"),
    "privacy.intro": (
        "Pick a resource with personal information, choose k and ℓ, and compare the rows before "
        "and after de-identification. The curve shows information loss (NCP) as k grows.",
        "选择一个含个人信息的数据资源，设定 k 和 ℓ，比较去标识化前后的数据。曲线显示信息损失"
        "（NCP）随 k 增大的变化。",
    ),
    "privacy.resource": ("Resource", "数据资源"),
    "privacy.rows": ("Rows", "行数"),
    "privacy.k": ("k", "k 值"),
    "privacy.l": ("ℓ", "ℓ 值"),
    "privacy.suppression": ("Suppression", "抑制比例"),
    "privacy.run": ("De-identify", "去标识化"),
    "privacy.before": ("Before (synthetic source rows)", "处理前（合成源数据）"),
    "privacy.after": ("After (released rows)", "处理后（发布数据）"),
    "privacy.loss_title": (
        "Information loss (NCP, 0 = none, 1 = all) against k; the red dot is your choice",
        "信息损失（NCP，0 表示无损失，1 表示全部损失）随 k 的变化；红点为当前选择",
    ),
    "privacy.k_achieved": ("k achieved", "实际 k 值"),
    "privacy.l_achieved": ("ℓ achieved", "实际 ℓ 值"),
    "privacy.risk_max": ("Prosecutor risk (max)", "检察官攻击风险（最大）"),
    "privacy.risk_avg": ("Prosecutor risk (average)", "检察官攻击风险（平均）"),
    "privacy.ncp": ("Information loss (NCP)", "信息损失（NCP）"),
    "privacy.released": ("Rows released", "发布行数"),
    "privacy.suppressed": ("Rows suppressed", "抑制行数"),
    "privacy.summary": (
        "k={k}, ℓ={l}, risk ≤ {risk}, information loss {ncp}; {released} of {rows} rows released, "
        "{suppressed} suppressed.",
        "k={k}，ℓ={l}，风险 ≤ {risk}，信息损失 {ncp}；发布 {released}/{rows} 行，抑制 {suppressed} 行。",
    ),
    "privacy.classes": ("Equivalence classes", "等价类数量"),
}

DISCLOSURE: dict[str, tuple[str, str]] = {
    "disclosure.title": ("Public disclosure", "信息公开"),
    "disclosure.intro": (
        "Each year, by 31 March, implementing agencies publish price caps and operators publish "
        "their products and prices. Build the report for a year and download it.",
        "每年 3 月 31 日前，实施机构公开价格上限，运营方公开产品目录和价格。生成某一年度的报告并下载。",
    ),
    "disclosure.build": ("Build report", "生成报告"),
    "disclosure.built": (
        "Report for {year} built under policy {policy}.",
        "已按政策 {policy} 生成 {year} 年度报告。",
    ),
    "disclosure.downloads": ("Download:", "下载："),
    "disclosure.download.html": ("HTML report", "HTML 报告"),
    "disclosure.download.md": ("Markdown", "Markdown 文本"),
    "disclosure.download.csv": ("CSV tables", "CSV 表格"),
    "disclosure.download.json": ("JSON", "JSON 数据"),
    "disclosure.download.dcat": ("DCAT-AP catalogue (Turtle)", "DCAT-AP 目录（Turtle）"),
    "disclosure.summary.registrations": ("Registrations", "登记数"),
    "disclosure.summary.authorizations": ("Authorizations", "授权数"),
    "disclosure.summary.products": ("Products", "产品数"),
    "disclosure.summary.requests_filed": ("Requests filed", "申请数"),
    "disclosure.summary.requests_approved": ("Requests approved", "批准数"),
    "disclosure.summary.operators_over_mar": (
        "Operators over their allowed revenue",
        "收入超过最高准许收入的运营方",
    ),
    "disclosure.table.registrations": ("Registrations", "登记"),
    "disclosure.table.authorizations": ("Authorizations", "授权"),
    "disclosure.table.products": ("Products and prices", "产品与价格"),
    "disclosure.table.requests": ("Requests", "申请统计"),
    "disclosure.table.revenue": ("Revenue against MAR", "收入与最高准许收入"),
    "disclosure.table.use_statements": ("Use statements", "用途说明"),
}

CATALOG: dict[str, tuple[str, str]] = {
    "catalog.title": ("Catalogue of public data resources", "公共数据资源目录"),
    "catalog.intro": (
        "Filter by domain, grade and channel, then pick a resource to see its fields and a few "
        "synthetic rows.",
        "按领域、分级和渠道筛选，再选择一项资源查看其字段和若干合成数据行。",
    ),
    "catalog.count": ("{shown} of {total} resources", "共 {total} 项资源，显示 {shown} 项"),
    "catalog.sample": ("Sample of synthetic rows", "合成数据样例"),
    "catalog.schema": ("Fields", "字段"),
    "catalog.field": ("Field", "字段名"),
    "catalog.type": ("Type", "类型"),
    "catalog.marking": ("Privacy marking", "隐私标记"),
    "catalog.description": ("Description", "说明"),
    "catalog.sharing": ("Sharing attribute", "共享属性"),
    "catalog.opening": ("Opening attribute", "开放属性"),
    "catalog.channels": ("Channels under the policy in force", "现行政策下可用渠道"),
    "catalog.frequency": ("Update frequency", "更新频率"),
    "catalog.size": ("Records held", "记录数"),
    "catalog.registration": ("Registration", "登记"),
}

REQUEST: dict[str, tuple[str, str]] = {
    "request.title": ("File a request", "提交数据申请"),
    "request.intro": (
        "Ask for a resource (sharing or opening) or for an operator's product (authorized "
        "operation). The quote and the review route update as you change the inputs.",
        "申请数据资源（共享或开放）或运营方的数据产品（授权运营）。修改输入时，报价和审核流程会即时更新。",
    ),
    "request.resource": ("Resource", "数据资源"),
    "request.product": ("Product", "数据产品"),
    "request.fields": ("Fields", "字段"),
    "request.volume": ("Volume", "数量"),
    "request.duration": ("Days", "使用天数"),
    "request.use": ("Use statement", "用途说明"),
    "request.project_reference": ("Public project (free use)", "公共项目编号（免费使用）"),
    "request.sponsor": ("Sponsoring department", "支持部门"),
    "request.submit": ("Submit request", "提交申请"),
    "request.accept_quote": ("Accept quote and pay", "接受报价并支付"),
    "request.withdraw": ("Withdraw", "撤回申请"),
    "request.mine": ("My requests", "我的申请"),
    "request.quote_title": ("Quote and review route", "报价与审核流程"),
    "request.status_title": ("Status", "办理状态"),
    "request.no_quote": (
        "Choose an account and a target to see the quote.",
        "请选择身份和申请对象以查看报价。",
    ),
    "request.free_channel": ("Sharing and opening are free: no quote.", "共享和开放均免费，无需报价。"),
    "request.component": ("Component", "组成部分"),
    "request.amount": ("Amount", "金额"),
    "request.reason": ("Why", "依据"),
    "request.total": ("Total: {total} (policy {policy})", "合计：{total}（政策 {policy}）"),
    "request.refused": (
        "Refused by the policy: {reason} (rule {rule})",
        "政策不允许：{reason}（规则 {rule}）",
    ),
    "request.stages": ("Review stages and due dates: {stages}", "审核环节及截止日期：{stages}"),
    "request.no_review": ("none — granted at once", "无需审核，立即授予"),
    "request.conditions": ("Conditions: {conditions}", "使用条件：{conditions}"),
    "request.submitted": ("Request {code} submitted: {status}.", "申请 {code} 已提交：{status}。"),
    "request.quote_accepted": ("Quote of {code} accepted and paid.", "申请 {code} 的报价已接受并支付。"),
    "request.withdrawn": ("Request {code} withdrawn.", "申请 {code} 已撤回。"),
    "request.status_is": ("Status: {status}", "状态：{status}"),
    "request.quote_status": ("Quote: {total} ({status})", "报价：{total}（{status}）"),
    "request.grant": ("Licence {code}, valid until {until}", "许可 {code}，有效期至 {until}"),
    "request.waiting_for": (
        "Waiting for the {stage} by the {role}: {names}",
        "等待{role}进行{stage}：{names}",
    ),
    "request.returned_hint": (
        "Returned for revision: change the request and submit it again.",
        "已退回修改：请修改后重新提交。",
    ),
    "request.usage_due": (
        "Usage report due {due} ({filed} filed so far)",
        "使用情况报告截止 {due}（已提交 {filed} 份）",
    ),
    "request.usage_overdue": (
        "The usage report is overdue: nothing more is delivered until it is filed.",
        "使用情况报告已逾期：提交之前不再交付数据。",
    ),
    "request.usage_summary": ("How the data was used", "数据使用情况"),
    "request.report_usage": ("File usage report", "提交使用情况报告"),
    "request.usage_reported": (
        "Usage report for {code} filed (period due {due}{late}); next due {next}.",
        "{code} 的使用情况报告已提交（截止 {due}{late}）；下次截止 {next}。",
    ),
    "request.usage_late": (", late", "，已逾期"),
    "quote.purpose": ("purpose", "用途"),
    "quote.base": ("base price", "基础价格"),
    "quote.tiers": ("volume tiers", "阶梯计价"),
    "quote.discount": ("discount", "优惠"),
    "quote.cap": ("price cap", "价格上限"),
    "quote.tax": ("tax", "税费"),
}

REVIEW: dict[str, tuple[str, str]] = {
    "review.title": ("Review queue", "待审核事项"),
    "review.intro": (
        "The review stages you may decide now, earliest due date first. Approve, approve with "
        "conditions (one per line), reject or return for revision with a reason.",
        "您现在可以处理的审核环节，按截止日期排序。可批准、附条件批准（每行一个条件）、驳回或"
        "退回修改（需填写理由）。",
    ),
    "review.acting": ("Queue of {name}", "{name} 的待审事项"),
    "review.item": ("Item", "事项"),
    "review.decision": ("Decision", "审核决定"),
    "review.conditions": ("Conditions", "附加条件"),
    "review.reason": ("Reason", "理由"),
    "review.decide": ("Decide", "提交决定"),
    "review.decided": (
        "{code} decided: the request is now {status}.",
        "{code} 已决定：申请状态为“{status}”。",
    ),
    "review.target": ("Target", "申请对象"),
    "review.requester": ("Requester", "申请方"),
    "review.stage": ("Stage", "审核环节"),
    "review.due": ("Due", "截止日期"),
    "review.days_left": ("Days left", "剩余天数"),
    "review.breached": ("Deadline", "时限"),
    "review.overdue": ("overdue", "已超时"),
    "review.deliver_title": (
        "Deliver (data holder's steward or the product's operator)",
        "交付（数据持有方审核员或产品运营方）",
    ),
    "review.deliver_intro": (
        "A granted request is delivered from synthetic rows; every condition is enforced "
        "(fields, de-identification, aggregation).",
        "已授予许可的申请将以合成数据交付，并执行全部使用条件（字段限定、去标识化、聚合）。",
    ),
    "review.deliver_code": ("Request", "申请编号"),
    "review.deliver": ("Deliver", "交付"),
    "review.delivered": (
        "{code}: {rows} rows delivered ({columns}).",
        "{code}：已交付 {rows} 行（{columns}）。",
    ),
}

REGISTRATION: dict[str, tuple[str, str]] = {
    "registration.title": ("Registration", "登记"),
    "registration.intro": (
        "The data holder's steward (for a resource) or the operator (for a product) files a "
        "registration; the registrar accepts it, reviews it, publishes a public notice and, "
        "after the notice period, registers it with a code.",
        "数据持有方审核员（数据资源）或运营方（数据产品）提交登记申请；登记机构受理、审核、"
        "公示，公示期满后予以登记并发放登记编号。",
    ),
    "registration.apply_title": ("Apply (steward or operator)", "提交登记（持有方审核员或运营方）"),
    "registration.registrar_title": ("Registrar's steps", "登记机构办理"),
    "registration.subject": ("Subject", "登记对象"),
    "registration.record": ("Record", "登记记录"),
    "registration.apply": ("File registration", "提交登记"),
    "registration.filed": ("Registration #{id} filed for {subject}.", "已为 {subject} 提交登记 #{id}。"),
    "registration.accept": ("Accept", "受理"),
    "registration.start_review": ("Start review", "开始审核"),
    "registration.publish_notice": ("Publish notice", "公示"),
    "registration.register": ("Register", "予以登记"),
    "registration.reject": ("Reject", "驳回"),
    "registration.moved": ("Registration #{id} is now {status}.", "登记 #{id} 当前状态：{status}。"),
    "registration.code": ("Code issued: {code}.", "登记编号：{code}。"),
    "registration.notice_until": ("Public notice until", "公示截止"),
    "clock.today": ("Sandbox date: {date}", "沙盒日期：{date}"),
    "clock.days": ("Days", "天数"),
    "clock.advance": ("Advance clock (trainer)", "推进时钟（培训管理员）"),
    "clock.moved": ("The sandbox date is now {date}.", "沙盒日期已推进到 {date}。"),
}

OPERATOR: dict[str, tuple[str, str]] = {
    "operator.title": ("Authorized operation", "授权运营"),
    "operator.intro": (
        "An implementing agency authorizes an operator over its registered resources; the operator "
        "makes products, registers them, sets an actual price not above the cap and lists them. "
        "The regulator sets caps.",
        "实施机构将已登记的数据资源授权给运营方；运营方加工产品、办理登记、在价格上限内确定"
        "实际价格并上架。监管方设定价格上限。",
    ),
    "operator.authorizations": ("Authorizations", "授权协议"),
    "operator.authorization": ("Authorization", "授权协议"),
    "operator.agree": ("Agree (operator)", "签约（运营方）"),
    "operator.activate": ("Activate (agency)", "生效（实施机构）"),
    "operator.terminate": ("Terminate", "终止"),
    "operator.propose_title": ("Propose an authorization (agency steward)", "提出授权（实施机构审核员）"),
    "operator.propose": ("Propose", "提出授权"),
    "operator.scope": ("Resources in scope", "授权范围"),
    "operator.model": ("Model", "授权模式"),
    "operator.term": ("Years", "期限（年）"),
    "operator.agency": ("Implementing agency", "实施机构"),
    "operator.products": ("Products", "数据产品"),
    "operator.set_price": ("Set price", "确定价格"),
    "operator.register": ("Mark registered", "确认已登记"),
    "operator.list": ("List", "上架"),
    "operator.withdraw": ("Withdraw", "下架"),
    "operator.set_cap": ("Set cap (regulator)", "设定上限（监管方）"),
    "operator.create_title": ("New product (operator)", "新建产品（运营方）"),
    "operator.create": ("Create product", "创建产品"),
    "operator.transformation": ("Processing", "加工方式"),
    "operator.resources": ("Made from", "数据来源"),
    "operator.unit_cost": ("Unit cost", "单位成本"),
    "operator.price_formation": (
        "Price formation: costs filed → MAR set → caps filed within MAR → period closed",
        "价格形成：成本申报 → 核定最高准许收入 → 在其范围内制定上限收费标准 → 周期结算",
    ),
    "operator.price_formation_intro": (
        "The regulator sets each operator's maximum allowed revenue (MAR) in advance from its cost "
        "filing; the authorizing body files each product's cap so that the forecast revenue stays within "
        "MAR; revenue above MAR is deducted from the next period's MAR (发改价格〔2025〕65号).",
        "监管方根据运营机构的成本申报事先核定其最高准许收入；"
        "授权主体在最高准许收入范围内制定各产品的上限收费标准；"
        "超出最高准许收入的收入在核定下一周期最高准许收入时扣减"
        "（发改价格〔2025〕65号）。",
    ),
    "operator.forecast_volume": ("Forecast volume", "预计销售量"),
    "operator.costs": ("Costs by category", "分类成本"),
    "operator.file_costs": ("File costs (operator)", "申报成本（运营方）"),
    "operator.costs_filed": (
        "Costs filed as {code}: operating cost {cost}.", "成本已申报，编号 {code}：运营成本 {cost}。"
    ),
    "operator.file_cap": (
        "File cap within MAR (authorizing body)", "在最高准许收入内制定上限（授权主体）"
    ),
    "operator.set_mar": (
        "Set MAR from the cost filing (regulator)", "依据成本申报核定最高准许收入（监管方）"
    ),
    "operator.close_period": ("Close last year's period (regulator)", "结算上一周期（监管方）"),
    "operator.cost_filing": ("Cost filing", "成本申报"),
    "operator.mar": ("MAR", "最高准许收入"),
    "operator.deduction": ("Deducted (carried)", "扣减（上期结转）"),
    "operator.revenue": ("Revenue (fees charged)", "收入（已收费用）"),
    "operator.headroom": ("Headroom", "剩余额度"),
    "operator.within_mar": ("Within MAR", "未超上限"),
    "operator.period_closed": ("Closed", "已结算"),
    "operator.cap_filed": (
        "Cap {cap} of {code} filed as {filing} ({kind}).",
        "{code} 的上限 {cap} 已备案，编号 {filing}（{kind}）。",
    ),
    "operator.cap_provisional": ("provisional, no MAR set yet", "试行，尚未核定最高准许收入"),
    "operator.cap_within_mar": ("within MAR", "在最高准许收入范围内"),
    "operator.mar_set": ("MAR {year} of {operator}: {mar}.", "{operator} {year} 年最高准许收入：{mar}。"),
    "operator.period_closed_msg": (
        "{year} of {operator} closed: revenue {revenue}, MAR {mar}, carried {carried}.",
        "{operator} {year} 年已结算：收入 {revenue}，最高准许收入 {mar}，结转扣减 {carried}。",
    ),
    "operator.auth_moved": ("Authorization {code} is now {status}.", "授权协议 {code} 当前状态：{status}。"),
    "operator.product_moved": (
        "Product {code}: {status}, cap {cap}, price {price}.",
        "产品 {code}：{status}，上限 {cap}，价格 {price}。",
    ),
}

SCENARIO: dict[str, tuple[str, str]] = {
    "scenario.title": ("Scenario lab", "政策情景实验室"),
    "scenario.intro": (
        "Pick two scenarios (a policy with a demand model) and run both on the same seeds: the "
        "table shows each metric's mean with its 95 % interval and the paired difference B − A.",
        "选择两个情景（政策加需求模型），在相同随机种子上运行：表格给出每项指标的均值及其 95% "
        "置信区间，以及配对差值 B − A。",
    ),
    "scenario.a": ("Scenario A", "情景 A"),
    "scenario.b": ("Scenario B", "情景 B"),
    "scenario.seeds": ("Seeds", "种子数"),
    "scenario.days": ("Days", "模拟天数"),
    "scenario.run": ("Run both", "运行对比"),
    "scenario.running": ("Running…", "运行中……"),
    "scenario.done": (
        "Compared {a} and {b} on {seeds} seeds over {days} days.",
        "已在 {seeds} 个种子、{days} 天内对比 {a} 与 {b}。",
    ),
    "scenario.diff": ("Difference B − A", "差值 B − A"),
    "scenario.plots_caption": (
        "Plots: A and B side by side with 95 % intervals (requests, waiting days, money, "
        "access), and the review queue day by day on the first seed.",
        "图表：A 与 B 并列及 95% 置信区间（申请量、等待天数、金额、可及性），以及第一个种子"
        "下每日的审核队列长度。",
    ),
    "metric.filed": ("Requests filed", "提交申请数"),
    "metric.approved": ("Requests approved", "批准申请数"),
    "metric.delivered": ("Requests delivered", "交付申请数"),
    "metric.waiting_days_median": ("Waiting days (median)", "等待天数（中位数）"),
    "metric.waiting_days_p90": ("Waiting days (90th percentile)", "等待天数（第 90 百分位）"),
    "metric.deadline_breaches": ("Deadline breaches", "超时次数"),
    "metric.operator_revenue": ("Operator revenue", "运营方收入"),
    "metric.consumer_surplus": ("Consumer surplus", "消费者剩余"),
    "metric.welfare": ("Welfare", "社会福利"),
    "metric.free_use_share": ("Share of free use", "免费使用占比"),
    "metric.access_gini": ("Access concentration (Gini)", "获取集中度（基尼系数）"),
    "metric.prosecutor_risk_max": ("Re-identification risk (max)", "再识别风险（最大）"),
    "metric.mar_compliant_share": ("Operators within allowed revenue", "收入未超上限的运营方占比"),
    "metric.mar_excess": ("Revenue above MAR (clawed back)", "超出最高准许收入的收入（下期扣减）"),
    "metric.free_claims_refused": (
        "Free-use claims refused (paid instead)", "被驳回的免费使用申请（改为付费）"
    ),
    "metric.false_free_claims": ("False free-use claims granted", "获批的虚假免费使用申请"),
    "metric.misuse_detected": ("Misused free grants found", "查实的免费使用违规"),
    "metric.leaked_revenue": ("Revenue leaked into free use", "流失到免费使用的收入"),
    "metric.recovered_revenue": ("Revenue recovered from misuse", "违规追缴的收入"),
}

APPS: dict[str, tuple[str, str]] = {
    "app.catalog": ("Public data catalogue", "公共数据目录"),
    "app.request_and_review": ("Requests and reviews", "申请与审核"),
    "app.privacy_lab": ("Privacy lab", "隐私实验室"),
    "app.scenario_lab": ("Policy scenario lab", "政策情景实验室"),
    "app.disclosure": ("Public disclosure", "信息公开"),
}

GUIDES: dict[str, tuple[str, str]] = {
    # privacy story, step 1: column roles
    "guide.roles.title": ("Who is in the data: column roles", "数据里有谁：字段角色"),
    "guide.roles.intro": (
        "Raw synthetic rows of a resource with personal information. The data holder marks every column; "
        "the marking decides what de-identification does with it.",
        "含个人信息的数据资源的原始合成数据。数据持有方为每个字段标注角色，去标识化按标注处理各字段。",
    ),
    "guide.roles.rows": ("Raw rows (column · role)", "原始数据（字段 · 角色）"),
    "guide.roles.column": ("Column", "字段"),
    "guide.roles.role": ("Role", "角色"),
    "guide.roles.type": ("Type", "类型"),
    "guide.roles.meaning": ("What the pipeline does", "处理方式"),
    "guide.role.identifier": (
        "Points to one person directly: dropped before any release.",
        "直接指向个人：任何发布前都会删除。",
    ),
    "guide.role.quasi_identifier": (
        "Harmless alone, identifying in combination: generalized until each combination is shared by k rows.",
        "单独无害、组合后可识别：泛化到每种组合至少有 k 行相同。",
    ),
    "guide.role.sensitive": (
        "What must not be learned about a person: checked for ℓ distinct values in every group.",
        "不应被推断出的个人信息：检查每个等价类至少有 ℓ 个不同取值。",
    ),
    "guide.role.other": ("Not personal: released unchanged.", "非个人信息：原样发布。"),
    # privacy story, step 3: risk against information loss
    "guide.curve.title": ("Risk against information loss", "风险与信息损失"),
    "guide.curve.intro": (
        "The same rows de-identified at several values of k: re-identification risk falls as k grows, and "
        "information loss (NCP) rises.",
        "同一批数据在不同 k 值下去标识化：k 越大，再识别风险越低，信息损失（NCP）越高。",
    ),
    "guide.curve.run": ("Draw the curve", "绘制曲线"),
    "guide.curve.summary": (
        "From k={k_low} to k={k_high}: risk {risk_low} → {risk_high}, "
        "information loss {ncp_low} → {ncp_high}.",
        "从 k={k_low} 到 k={k_high}：风险 {risk_low} → {risk_high}，信息损失 {ncp_low} → {ncp_high}。",
    ),
    # privacy story, step 4: aggregates
    "guide.agg.title": ("Aggregates: minimum cell size and noise", "汇总数据：最小单元格与噪声"),
    "guide.agg.intro": (
        "Counts per group instead of rows. Groups smaller than the minimum cell size are suppressed; "
        "with ε > 0, Laplace noise is added (smaller ε: more noise, stronger privacy). ε = 0 means no noise.",
        "按组计数而不发布明细。少于最小单元格规模的组被抑制；ε > 0 时加入拉普拉斯噪声（ε 越小噪声越大、"
        "隐私保护越强）。ε = 0 表示不加噪声。",
    ),
    "guide.agg.by": ("Group by", "分组字段"),
    "guide.agg.min_cell": ("Min. cell", "最小单元格"),
    "guide.agg.epsilon": ("ε", "ε 值"),
    "guide.agg.run": ("Aggregate", "汇总"),
    "guide.agg.rows_in": ("Source rows", "源数据行数"),
    "guide.agg.cells_total": ("Cells", "单元格数"),
    "guide.agg.cells_released": ("Cells released", "发布单元格数"),
    "guide.agg.cells_suppressed": ("Cells suppressed (too small)", "抑制单元格数（过小）"),
    "guide.agg.epsilon_spent": ("ε spent", "消耗的 ε"),
    "guide.agg.noise_scale": ("Noise scale of counts", "计数噪声尺度"),
    "guide.agg.summary": (
        "{released} of {total} cells released; "
        "{suppressed} below the minimum cell size of {min_cell} suppressed.",
        "共 {total} 个单元格，发布 {released} 个；{suppressed} 个小于最小单元格规模 {min_cell}，已抑制。",
    ),
    # scenario story, step 1: what a scenario is
    "guide.explain.title": ("What a scenario is", "什么是情景"),
    "guide.explain.intro": (
        "A scenario names a synthetic world, a policy, a demand model, a horizon and seeds. Pick two: "
        "the tables show their facts and exactly which settings and policy parameters differ.",
        "情景包括合成世界、政策、需求模型、模拟期限和随机种子。选择两个情景：下表列出其基本信息，以及二者在"
        "情景设置和政策参数上的具体差异。",
    ),
    "guide.explain.item": ("Item", "项目"),
    "guide.explain.key": ("Setting", "设置项"),
    "guide.explain.settings": ("Scenario settings that differ", "情景设置差异"),
    "guide.explain.policy": ("Policy parameters that differ", "政策参数差异"),
    "guide.explain.fact.description": ("Description", "说明"),
    "guide.explain.fact.policy": ("Policy (version)", "政策（版本）"),
    "guide.explain.fact.world": ("Synthetic world", "合成世界"),
    "guide.explain.fact.horizon": ("Horizon", "模拟期限"),
    "guide.explain.fact.seeds": ("Seeds", "随机种子"),
    "guide.explain.fact.arrivals": ("Arrivals per day (all requesters)", "日均到达申请（全部申请方）"),
    "guide.explain.fact.capacity": ("Review capacity per working day", "每工作日审核能力"),
    "guide.explain.world_value": ("{size}, seed {seed}", "{size}，种子 {seed}"),
    "guide.explain.horizon_value": ("{days} days from {start}", "自 {start} 起 {days} 天"),
    "guide.explain.seeds_value": (
        "default {default}; {count} for comparisons",
        "默认 {default}；对比时使用 {count} 个",
    ),
    "guide.explain.summary": (
        "{settings} scenario settings and {policy} policy parameters differ.",
        "情景设置有 {settings} 项不同，政策参数有 {policy} 项不同。",
    ),
    # scenario story, step 3: price caps and small firms
    "guide.sweep.title": ("Lower price caps and small firms", "更低的价格上限与小微企业"),
    "guide.sweep.intro": (
        "A researcher's question: what do lower caps do to small-firm access? The sweep reruns the "
        "scenario with each cap on the same seeds and reports what micro and small enterprises filed, "
        "got approved and paid.",
        "研究问题：降低价格上限对小微企业获取数据有何影响？扫描在相同种子上以每个上限重新运行情景，报告微型"
        "和小型企业的申请数、获批数和平均支付价格。",
    ),
    "guide.sweep.scenario": ("Scenario", "情景"),
    "guide.sweep.caps": ("Caps to try", "待测上限"),
    "guide.sweep.run": ("Run the sweep", "运行扫描"),
    "guide.sweep.no_cap": (
        "This policy sets no cap for {unit}: type the caps to try.",
        "该政策未对{unit}设定上限：请输入待测上限。",
    ),
    "guide.sweep.done": (
        "{points} caps × {seeds} seeds × {days} days of {scenario} done.",
        "已完成 {scenario}：{points} 个上限 × {seeds} 个种子 × {days} 天。",
    ),
    "guide.sweep.metric.filed": ("Filed · {size}", "申请数 · {size}"),
    "guide.sweep.metric.approved": ("Approved · {size}", "获批数 · {size}"),
    "guide.sweep.metric.price_paid_mean": ("Mean price paid · {size}", "平均支付价格 · {size}"),
    # disclosure story, step 2: the DCAT-AP register
    "guide.dcat.title": ("The register as linked data (DCAT-AP)", "以关联数据发布的登记目录（DCAT-AP）"),
    "guide.dcat.intro": (
        "The public register is also published as a DCAT-AP catalogue that other portals can harvest: every "
        "resource is a dcat:Dataset with its publisher, access rights, distributions and an ODRL offer.",
        "公开登记目录同时以 DCAT-AP 目录发布，供其他门户采集：每个数据资源是一个 dcat:Dataset，附有发布方、"
        "访问权限、分发方式和 ODRL 许可要约。",
    ),
    "guide.dcat.format": ("Format", "格式"),
    "guide.dcat.build": ("Build the catalogue", "生成目录"),
    "guide.dcat.built": (
        "{triples} statements describing {datasets} datasets.",
        "共 {triples} 条陈述，描述 {datasets} 个数据集。",
    ),
    "guide.dcat.dataset": ("Dataset", "数据集"),
    "guide.dcat.class": ("Kind of thing (rdf:type)", "对象类型（rdf:type）"),
    "guide.dcat.count": ("Count", "数量"),
    "guide.dcat.predicate": ("Property", "属性"),
    "guide.dcat.object": ("Value", "取值"),
    "guide.dcat.text": ("The serialized catalogue", "序列化目录文本"),
    "guide.dcat.more_lines": ("{lines} more lines in the download.", "其余 {lines} 行见下载文件。"),
    "guide.dcat.download": ("Download the catalogue ({fmt})", "下载目录（{fmt}）"),
    # disclosure story, step 3: importing a portal's catalogue
    "guide.import.title": ("Importing a portal's catalogue", "导入门户目录"),
    "guide.import.intro": (
        "Read a CKAN or DCAT catalogue (a shipped sample, or upload your own), check how each dataset "
        "maps to a resource (grade, sharing and opening attributes, field markings), then import it "
        "into the sandbox.",
        "读取 CKAN 或 DCAT 目录（内置示例或上传文件），检查每个数据集如何映射为数据资源（分级、共享与开放"
        "属性、字段标注），再导入沙盒。",
    ),
    "guide.import.file": ("Sample", "示例文件"),
    "guide.import.upload": ("Upload", "上传"),
    "guide.import.preview": ("Read", "读取"),
    "guide.import.run": ("Import", "导入"),
    "guide.import.sharing": ("Sharing", "共享属性"),
    "guide.import.opening": ("Opening", "开放属性"),
    "guide.import.fields": ("Fields (marking)", "字段（标注）"),
    "guide.import.read": ("{datasets} datasets read ({fmt}).", "已读取 {datasets} 个数据集（{fmt}）。"),
    "guide.import.done": (
        "Imported: {created} resources created, {updated} updated, {unchanged} unchanged, "
        "{orgs} organizations created. {codes}",
        "导入完成：新建资源 {created} 个，更新 {updated} 个，未变 {unchanged} 个，"
        "新建机构 {orgs} 个。{codes}",
    ),
}

# Texts made by other layers, from the language-neutral `key` + `params` they carry (QuoteLine, Refusal,
# errors).
# The English column reproduces the English those layers build themselves (a test checks it byte for byte);
# `policy.*` / `quote.unit.*` / `quote.who.*` / `quote.source.*` are words that go into those sentences.
POLICY: dict[str, tuple[str, str]] = {
    "quote.free_channel": (
        "Free: {channel} is free of charge under {policy}",
        "免费：依据 {policy}，{channel}不收费",
    ),
    "quote.free_purpose": (
        "Free: purpose {purpose} is in the free list of {policy}",
        "免费：用途“{purpose}”在 {policy} 的免费清单内",
    ),
    "quote.paid_purpose": (
        "Paid: purpose {purpose} is in the paid list of {policy}",
        "收费：用途“{purpose}”在 {policy} 的收费清单内",
    ),
    "quote.base": (
        "Base: {volume} {units} x {price} {currency} {per} ({source}) = {amount}",
        "基础价：{volume} {units} × {per} {price} {currency}（{source}）= {amount}",
    ),
    "quote.source.actual": ("the operator's actual price", "运营方设定的实际价格"),
    "quote.source.cap": ("the cap, as no actual price is set", "未设实际价格，按上限价"),
    "quote.tiers_none": ("Tiers: {policy} has no volume tiers", "阶梯：{policy} 未设数量阶梯"),
    "quote.tiers_below": (
        "Tiers: {volume} {units} is below the first volume tier of {policy}",
        "阶梯：{volume} {units}低于 {policy} 的第一档数量阶梯",
    ),
    "quote.tiers": ("Tiers: {parts} = {amount}", "阶梯：{parts} = {amount}"),
    "quote.tier_part": (
        "{count} {units} from no. {start} at x{mult}",
        "自第 {start} 起的 {count} {units}按 ×{mult} 计",
    ),
    "quote.discount_none": ("Discount: none for {who} under {policy}", "折扣：依据 {policy}，{who}无折扣"),
    "quote.discount_purpose": (
        "Discount: none for purpose {purpose} under {policy}",
        "折扣：依据 {policy}，用途“{purpose}”无折扣",
    ),
    "quote.discount": (
        "Discount: {rate} for {who} under {policy} = {amount}",
        "折扣：依据 {policy}，{who}享受 {rate} 折扣 = {amount}",
    ),
    "quote.cap_none": (
        "Cap: none under {policy}; the operator sets the price",
        "上限价：{policy} 未设上限，由运营方定价",
    ),
    "quote.cap_reduced": (
        "Cap: {cap} {currency} {per} x {volume} = {limit}; the price is reduced to the cap",
        "上限价：{per} {cap} {currency} × {volume} = {limit}；价格降至上限",
    ),
    "quote.cap_within": (
        "Cap: {subtotal} is within the cap of {cap} {currency} {per} x {volume} = {limit}",
        "上限价：{subtotal} 未超过上限 {per} {cap} {currency} × {volume} = {limit}",
    ),
    "quote.tax_included": (
        "Tax: VAT {rate} is included in the price ({taxes} {currency})",
        "税费：价格已含 {rate} 增值税（{taxes} {currency}）",
    ),
    "quote.tax_added": (
        "Tax: VAT {rate} added to {subtotal} = {amount}",
        "税费：在 {subtotal} 上加收 {rate} 增值税 = {amount}",
    ),
    "quote.unit.per_product.one": ("copy", "份"),
    "quote.unit.per_product.many": ("copies", "份"),
    "quote.unit.per_product.per": ("per copy", "每份"),
    "quote.unit.per_call.one": ("call", "次调用"),
    "quote.unit.per_call.many": ("calls", "次调用"),
    "quote.unit.per_call.per": ("per call", "每次调用"),
    "quote.unit.per_month.one": ("month", "个月"),
    "quote.unit.per_month.many": ("months", "个月"),
    "quote.unit.per_month.per": ("per month", "每月"),
    "quote.unit.per_record.one": ("record", "条记录"),
    "quote.unit.per_record.many": ("records", "条记录"),
    "quote.unit.per_record.per": ("per record", "每条记录"),
    "quote.who.department": ("a department", "政务部门"),
    "quote.who.institution": ("an institution", "公共机构"),
    "quote.who.enterprise": ("an enterprise", "企业"),
    "quote.who.research": ("a research", "科研机构"),
    "quote.who.nonprofit": ("a nonprofit", "非营利组织"),
    "quote.who.operator": ("an operator", "运营方"),
    "quote.who.regulator": ("a regulator", "监管方"),
    "quote.who.micro_enterprise": ("a micro enterprise", "微型企业"),
    "quote.who.small_enterprise": ("a small enterprise", "小型企业"),
    "quote.who.medium_enterprise": ("a medium enterprise", "中型企业"),
    "quote.who.large_enterprise": ("a large enterprise", "大型企业"),
    "refusal.grade_none": (
        "{grade} data is not supplied on any channel under {policy}",
        "依据 {policy}，{grade}不通过任何渠道提供",
    ),
    "refusal.grade_channel": (
        "{grade} data may not be supplied by {channel} under {policy}; allowed: {allowed}",
        "依据 {policy}，{grade}不得通过{channel}提供；允许的渠道：{allowed}",
    ),
    "refusal.raw_data": (
        "Raw data never goes to the market under {policy}: an operator sells a processed product",
        "依据 {policy}，原始数据不得进入市场：运营方只能提供加工后的数据产品",
    ),
    "refusal.free_use_requester": (
        "A {kind} may not claim free use for {purpose} under {policy}; who may: {who}",
        "依据 {policy}，{kind}不得以“{purpose}”申请免费使用；可申请的主体：{who}",
    ),
    "refusal.free_use_statement": (
        "Free use for {purpose} under {policy} needs a use statement of at least {min} characters; "
        "this one has {got}",
        "依据 {policy}，以“{purpose}”免费使用须提交不少于 {min} 字的用途说明；当前为 {got} 字",
    ),
    "refusal.free_use_project": (
        "Free use for {purpose} under {policy} needs the reference of the public project it serves",
        "依据 {policy}，以“{purpose}”免费使用须注明所服务的公共项目编号",
    ),
    "refusal.free_use_sponsor": (
        "Free use for {purpose} under {policy} needs a sponsoring government department",
        "依据 {policy}，以“{purpose}”免费使用须有政府部门作为项目支持单位",
    ),
    "refusal.free_use_limit": (
        "At most {max} free requests for {purpose} per {days} days under {policy}; {got} already granted",
        "依据 {policy}，“{purpose}”每 {days} 天最多免费申请 {max} 次；已获批 {got} 次",
    ),
    "refusal.free_use_volume": (
        "At most {max} units free for {purpose} per {days} days under {policy}; {got} already granted and "
        "{asked} asked",
        "依据 {policy}，“{purpose}”每 {days} 天最多免费使用 {max} 个单位；已获批 {got}，本次申请 {asked}",
    ),
    "refusal.aggregate_only": (
        "{grade} data is supplied only as aggregated products under {policy}",
        "依据 {policy}，{grade}只能以汇总统计产品形式提供",
    ),
    "refusal.important_unprocessed": (
        "Important data is supplied by authorized operation only as de-identified or aggregated products "
        "under {policy}",
        "依据 {policy}，重要数据通过授权运营只能以去标识化或汇总统计产品形式提供",
    ),
    "refusal.not_shared": (
        "The data holder marked this resource as not shared",
        "数据持有方已将该数据资源标注为不予共享",
    ),
    "refusal.not_open": (
        "The data holder marked this resource as not open",
        "数据持有方已将该数据资源标注为不予开放",
    ),
    "refusal.requester_kind": (
        "A {kind} may not request by {channel} under {policy}; allowed: {allowed}",
        "依据 {policy}，{kind}不得申请{channel}；允许的申请方：{allowed}",
    ),
    "refusal.purpose_not_allowed": (
        "Purpose {purpose} is not allowed for {channel} under {policy}; allowed: {allowed}",
        "依据 {policy}，{channel}不允许用途“{purpose}”；允许的用途：{allowed}",
    ),
    "refusal.purpose_unpriced": (
        "Purpose {purpose} is neither free nor paid under {policy}",
        "依据 {policy}，用途“{purpose}”既不在免费清单也不在收费清单内",
    ),
    "refusal.no_extension": (
        "The {stage} stage may not be extended under {policy}",
        "依据 {policy}，{stage}环节不得延期",
    ),
    "refusal.cap_below_cost": (
        "The cap {cap} {currency} of {what} is below its unit cost {cost} {currency}, which {policy} forbids",
        "{what}的上限价 {cap} {currency} 低于其单位成本 {cost} {currency}，{policy} 不允许",
    ),
    "refusal.above_cap": (
        "The actual price {price} {currency} of {what} is above its cap {cap} {currency} under {policy}",
        "依据 {policy}，{what}的实际价格 {price} {currency} 高于其上限价 {cap} {currency}",
    ),
    "refusal.what.product": ("product {product}", "产品 {product} "),
    "refusal.what.the_product": ("the product", "该产品"),
    "policy.grade.general": ("General", "一般数据"),
    "policy.grade.important": ("Important", "重要数据"),
    "policy.grade.core": ("Core", "核心数据"),
    "policy.channel.sharing": ("sharing", "共享"),
    "policy.channel.opening": ("opening", "开放"),
    "policy.channel.authorized_operation": ("authorized operation", "授权运营"),
    "policy.list_none": ("none", "无"),
    # MarketplaceError subclasses, worded from their fields (the English is the exception's own text)
    "error.invalid_input": (
        "{field}: got {value}; expected {expected}",
        "{field}：收到 {value}；应为 {expected}",
    ),
    "error.transition": ("{subject} is {state}: cannot {action}", "{subject} 当前为{state}：不能{action}"),
    "error.transition_allowed": (
        "{subject} is {state}: cannot {action}; allowed from {state}: {allowed}",
        "{subject} 当前为{state}：不能{action}；该状态下允许：{allowed}",
    ),
    "error.permission": ("{actor} may not {action}: {reason}", "{actor} 无权{action}：{reason}"),
    "error.policy": ("{message} (rule: {rule})", "{message}（规则：{rule}）"),
    "error.conflict": (
        "Someone else changed this first; reload and try again. {details}",
        "该对象已被他人先行修改，请刷新后重试。{details}",
    ),
    "error.privacy": (
        "The privacy target cannot be met; nothing was released. {details}",
        "无法达到隐私保护目标，未发布任何数据。{details}",
    ),
    "error.not_found": ("{kind} {code} not found", "未找到{kind} {code}"),
    # reasons of PermissionDenied raised by marketplace.workflows.roles (its `reason_key`)
    "permission.inactive": ("the account is inactive", "该账户已停用"),
    "permission.needs_role": ("needs the {role} role", "需要“{role}”角色"),
    "permission.needs_role_has": ("needs the {role} role (has: {has})", "需要“{role}”角色（现有：{has}）"),
    "permission.other_org": (
        "acts for another {what} than the one responsible",
        "所代表的{what}不是负责方",
    ),
    "enum.organization": ("organization", "机构"),
}

SECTIONS: tuple[dict[str, tuple[str, str]], ...] = (
    COMMON,
    START,
    ACTAS,
    PRIVACY,
    DISCLOSURE,
    CATALOG,
    REQUEST,
    REVIEW,
    REGISTRATION,
    OPERATOR,
    SCENARIO,
    APPS,
    GUIDES,
    POLICY,
)
MESSAGES: dict[str, tuple[str, str]] = {f"enum.{k}": v for k, v in ENUMS.items()}
for _section in SECTIONS:
    MESSAGES.update(_section)
