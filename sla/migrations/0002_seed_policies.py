"""Seeds the agreement's promises (SPEC.md's table) with their clause references. The numbers
live in these rows, editable in the admin and overridable per contract, never in logic."""

from decimal import Decimal

from django.db import migrations

IDC = "网络资源服务及相关客户服务品质协议"
MAIL = "企业邮件服务品质保证书"

# code, zh, en, kind, metric, starts_on, comparison, threshold, unit, calendar, warn%, remedy, clause
POLICIES = [
    ("C1", "网络联通性 99.9%", "Network connectivity 99.9%", "measure",
     "monthly counted downtime", "", "lt", "44", "minutes", "month", 80, "waive_month_rent",
     f"{IDC} 第一条"),
    ("C2", "电力持续供应 99.9%", "Power supply 99.9%", "measure",
     "monthly counted power interruption (mains and UPS both dead)", "", "le", "0.1", "percent",
     "month", 80, "waive_month_rent", f"{IDC} 第二条"),
    ("C3", "初装保证", "Initial installation", "deadline", "installation complete",
     "contract signed", "le", "3", "working_days", "cn-workdays", 67, "refund_installation",
     f"{IDC} 第三条"),
    ("C4", "紧急情况报告", "Emergency notice", "deadline", "an authorized contact notified",
     "emergency declared", "le", "15", "minutes", "24x7", 67, "deduct_day_rent", f"{IDC} 第四条"),
    ("C5", "授权操作首次反馈", "First feedback on an authorized operation", "deadline",
     "first feedback to the customer", "authorization accepted", "le", "30", "minutes", "24x7", 67,
     "escalate", f"{IDC} 第七条"),
    ("C6", "书面操作情况报告", "Written operation report", "deadline",
     "written operation report issued", "operation finished", "le", "24", "hours", "24x7", 80,
     "escalate", f"{IDC} 第七条"),
    ("C7", "电话授权后的书面授权", "Written authorization after a phone authorization", "deadline",
     "written authorization received", "phone authorization accepted", "le", "24", "hours", "24x7",
     80, "flag_escalate", f"{IDC} 第六条、第七条"),
    ("C8", "首份书面投诉处理情况报告", "First written complaint report", "deadline",
     "first written report issued", "complaint accepted", "le", "24", "hours", "24x7", 80,
     "escalate", f"{IDC} 第八条"),
    ("E1", "邮箱联通性 99.9%", "Mailbox connectivity 99.9%", "measure", "monthly counted downtime",
     "", "lt", "44", "minutes", "month", 80, "extend_service", f"{MAIL} 一、邮箱联通性保障"),
    ("E2-AVG", "邮件收发延迟（平均）", "Mail latency (average)", "measure",
     "monthly average send/receive latency", "", "le", "1", "minutes", "month", 80,
     "extend_service", f"{MAIL} 二、邮件收发延迟保障"),
    ("E2-SLOW", "邮件收发延迟（超过 1 小时的邮件数）", "Mail latency (messages over 1 h)", "measure",
     "messages delayed over 1 hour in the month", "", "le", "2", "count", "month", 80,
     "extend_service", f"{MAIL} 二、邮件收发延迟保障"),
    ("E3-FAULT", "每月故障总历时", "Monthly fault total", "measure", "monthly fault minutes", "",
     "le", "100", "minutes", "month", 80, "extend_service", f"{MAIL} 三、运维保障"),
    ("E3-ADJUST", "每月调整总历时", "Monthly adjustment total", "measure",
     "monthly maintenance minutes", "", "le", "100", "minutes", "month", 80, "extend_service",
     f"{MAIL} 三、运维保障"),
    ("E3-AVAIL", "系统可用率", "System availability", "measure", "monthly availability", "", "ge",
     "99.99", "percent", "month", 80, "extend_service", f"{MAIL} 三、运维保障"),
    ("E3-DAYS", "全年无故障天数", "Fault-free days a year", "measure", "fault-free days in the year",
     "", "ge", "360", "days", "year", 80, "extend_service", f"{MAIL} 三、运维保障"),
    ("E4-RESP", "垃圾邮件投诉响应", "Spam complaint response", "deadline", "response to the complaint",
     "complaint accepted", "le", "1", "working_days", "cn-workdays", 67, "waive_month_rent",
     f"{MAIL} 四、反垃圾邮件保障"),
    ("E4-RESULT", "垃圾邮件投诉处理结果通报", "Spam complaint result to the complainant", "deadline",
     "result reported to the complainant", "complaint accepted", "le", "3", "days", "24x7", 80,
     "waive_month_rent", f"{MAIL} 四、反垃圾邮件保障 g"),
    ("E5-EXIST", "开通（已有域名）", "Provisioning (existing domain)", "deadline",
     "mail service provisioned", "payment confirmed", "le", "24", "hours", "24x7", 80,
     "waive_month_rent", f"{MAIL} 八、开通的保障"),
    ("E5-NEW", "开通（新申请域名）", "Provisioning (new domain)", "deadline",
     "mail service provisioned", "payment confirmed", "le", "48", "hours", "24x7", 80,
     "waive_month_rent", f"{MAIL} 八、开通的保障"),
    ("E6-INCR", "增量备份间隔", "Incremental backup interval", "measure",
     "days between incremental backups", "", "le", "1", "days", "day", 80, "extend_service",
     f"{MAIL} 七、数据备份的保障"),
    ("E6-FULL", "全备份间隔", "Full backup interval", "measure", "days between full backups", "",
     "le", "3", "days", "day", 80, "extend_service", f"{MAIL} 七、数据备份的保障"),
    ("E6-KEEP", "备份保存期", "Backup retention", "measure", "days a backup is kept", "", "ge", "30",
     "days", "day", 80, "extend_service", f"{MAIL} 七、数据备份的保障"),
    ("E6-LOCKED", "锁定账号数据保存期", "Locked account data retention", "measure",
     "days a locked account's data is kept", "", "ge", "90", "days", "day", 80, "extend_service",
     f"{MAIL} 七、数据备份的保障"),
]


def seed(apps, schema_editor):
    SlaPolicy = apps.get_model("sla", "SlaPolicy")
    for (code, zh, en, kind, metric, starts, cmp, thr, unit, cal, warn, remedy, clause) in POLICIES:
        SlaPolicy.objects.update_or_create(code=code, defaults=dict(
            name_zh=zh, name_en=en, kind=kind, metric=metric, starts_on=starts, comparison=cmp,
            threshold=Decimal(thr), unit=unit, calendar=cal, warning_percent=warn, remedy=remedy,
            clause=clause))


def unseed(apps, schema_editor):
    apps.get_model("sla", "SlaPolicy").objects.filter(code__in=[p[0] for p in POLICIES]).delete()


class Migration(migrations.Migration):
    dependencies = [("sla", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
