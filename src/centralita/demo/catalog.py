"""The demo contact center's configuration, as data: Banco Ejemplo, a Spanish retail bank.

Everything here is applied through the ordinary `do_*` actions by `demo.loader`; nothing writes rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

TENANT_SLUG = "demo"
TENANT_NAME = "Banco Ejemplo"
TIMEZONE = "Europe/Madrid"
HOURS_CODE = "general"
URGENT_QUEUE = "urgencias"  # open 24 hours (see QUEUES)
SERVICE_NUMBER = "+34900100200"  # the bank's freephone line (dialled number of every demo call)
CHAT_ENTRY = "web"
EMAIL_ADDRESS = "atencion@bancoejemplo.example"
TELEPHONY_EUR_PER_MINUTE = 0.012
# Where contacts come in (the flows are in demo/flows/, published first): the freephone line runs the IVR,
# the website's chat widget the bot.
ENTRY_POINTS: list[dict[str, str]] = [
    {
        "code": "telefono",
        "name": "Banco Ejemplo, teléfono",
        "kind": "phone",
        "address": SERVICE_NUMBER,
        "flow": "banco_entrada",
        "language": "es",
    },
    {
        "code": "web_chat",
        "name": "Banco Ejemplo, web chat",
        "kind": "chat",
        "address": "demo-banco-web",
        "flow": "banco_chat",
        "language": "es",
    },
]

# ISO day 1 = Monday … 7 = Sunday; [start, end) in local time.
WEEKLY_HOURS: list[tuple[int, str, str]] = [(day, "08:00", "20:00") for day in range(1, 6)] + [(6, "09:00", "14:00")]

SEGMENTS = ("particulares", "premium", "empresas")
VALUE_TIERS = ("bajo", "medio", "alto", "muy_alto")
LIFECYCLE_STAGES = ("prospect", "new", "active", "at_risk", "lapsed")


def easter_sunday(year: int) -> dt.date:
    """Gregorian Easter Sunday (the anonymous Gregorian algorithm, Meeus/Jones/Butcher)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * el) // 451
    month = (h + el - 7 * m + 114) // 31
    day = (h + el - 7 * m + 114) % 31 + 1
    return dt.date(year, month, day)


def national_holidays(year: int) -> list[tuple[dt.date, str]]:
    """Spain's national public holidays (fiestas nacionales comunes a todo el territorio) of `year`."""
    fixed = [
        ((1, 1), "Año Nuevo"),
        ((1, 6), "Epifanía del Señor"),
        ((5, 1), "Fiesta del Trabajo"),
        ((8, 15), "Asunción de la Virgen"),
        ((10, 12), "Fiesta Nacional de España"),
        ((11, 1), "Todos los Santos"),
        ((12, 6), "Día de la Constitución Española"),
        ((12, 8), "Inmaculada Concepción"),
        ((12, 25), "Natividad del Señor"),
    ]
    days = [(dt.date(year, m, d), name) for (m, d), name in fixed]
    days.append((easter_sunday(year) - dt.timedelta(days=2), "Viernes Santo"))
    return sorted(days)


@dataclass(frozen=True)
class SkillDef:
    code: str
    name: str


SKILLS = [
    SkillDef("atencion", "Atención general"),
    SkillDef("ventas", "Venta y contratación"),
    SkillDef("cobros", "Recobro y deuda"),
    SkillDef("premium", "Banca personal premium"),
    SkillDef("digital", "Banca digital y app"),
    SkillDef("tarjetas", "Tarjetas y fraude"),
    SkillDef("empresas", "Banca de empresas"),
]


@dataclass(frozen=True)
class AwayDef:
    code: str
    name_es: str
    name_en: str
    productive: bool = False


AWAY_REASONS = [
    AwayDef("descanso", "Descanso", "Break"),
    AwayDef("comida", "Comida", "Lunch"),
    AwayDef("formacion", "Formación", "Training", productive=True),
    AwayDef("reunion", "Reunión de equipo", "Team meeting", productive=True),
    AwayDef("backoffice", "Tareas de back office", "Back-office work", productive=True),
    AwayDef("incidencia", "Incidencia técnica", "Technical problem"),
]


@dataclass(frozen=True)
class QueueDef:
    code: str
    name: str
    channels: tuple[str, ...]
    required_skills: dict[str, int]
    segment_priority: dict[str, int]
    sl_threshold_s: int
    sl_percent: float
    default_aht_s: int
    overflow: dict[str, object] | None = None
    agent_selection: str = "longest_idle"
    priority_mode: str = "strict"
    always_open: bool = False  # no hours calendar: open day and night


# `atencion` first: the others overflow to it, and an overflow target must exist.
QUEUES = [
    QueueDef(
        "atencion",
        "Atención al cliente",
        ("voice", "chat", "email"),
        {"atencion": 1},
        {"premium": 2, "empresas": 1, "particulares": 0},
        20,
        80.0,
        300,
        agent_selection="skill_then_longest_idle",
        priority_mode="aged",
    ),
    QueueDef(
        "ventas",
        "Ventas y contratación",
        ("voice", "chat", "email"),
        {"ventas": 2},
        {"premium": 2, "empresas": 2, "particulares": 0},
        20,
        80.0,
        420,
        overflow={"queue": "atencion", "after_s": 120, "when_unstaffed": True, "mode": "add"},
    ),
    QueueDef(
        "cobros",
        "Cobros y recobro",
        ("voice", "email"),
        {"cobros": 2},
        {"empresas": 1},
        30,
        80.0,
        480,
    ),
    QueueDef(
        "premium",
        "Banca Premium",
        ("voice", "chat", "email"),
        {"premium": 3},
        {"premium": 5, "empresas": 3},
        10,
        90.0,
        360,
        overflow={"queue": "atencion", "after_s": 60, "when_unstaffed": True, "mode": "add"},
        agent_selection="skill_then_longest_idle",
    ),
    QueueDef(
        "soporte-digital",
        "Soporte digital",
        ("chat", "voice", "email"),
        {"digital": 2},
        {"premium": 1},
        30,
        80.0,
        330,
        overflow={"queue": "atencion", "after_s": None, "when_unstaffed": True, "mode": "move"},
    ),
    # A bank's card line never closes (a lost or stolen card is blocked at 3 a.m. too): the one queue open
    # day and night, so the demo (and `simulate --live`) has life at any hour.
    QueueDef(
        URGENT_QUEUE,
        "Tarjetas 24 h",
        ("voice", "chat"),
        {"atencion": 1},
        {"premium": 2, "empresas": 1},
        20,
        80.0,
        240,
        always_open=True,
    ),
]


@dataclass(frozen=True)
class GroupDef:
    code: str
    name_es: str
    name_en: str


REASON_GROUPS = [
    GroupDef("cuentas", "Cuentas y saldos", "Accounts and balances"),
    GroupDef("tarjetas", "Tarjetas", "Cards"),
    GroupDef("productos", "Productos y contratación", "Products and sales"),
    GroupDef("reclamaciones", "Reclamaciones", "Complaints"),
    GroupDef("datos", "Datos personales", "Personal details"),
    GroupDef("digital", "Banca digital", "Digital banking"),
    GroupDef("cobros", "Deuda y pagos", "Debt and payments"),
]


@dataclass(frozen=True)
class ReasonDef:
    """A contact reason with how the demo history uses it: frequency, queue, talk time, resolution, cases."""

    code: str
    group: str
    name_es: str
    name_en: str
    avoidable: bool
    queue: str
    weight: float  # relative frequency
    talk_s: int  # mean talk time on the phone
    resolve_p: float  # share resolved on the first contact
    subs: tuple[tuple[str, str, str], ...] = ()  # (code suffix, name_es, name_en)
    case_p: float = 0.0  # share of contacts that open a case
    case_subject: str = ""
    self_service_p: float = 0.0  # share of calls served by the IVR alone
    sales: bool = False


REASONS = [
    ReasonDef(
        "consulta_saldo",
        "cuentas",
        "Consulta de saldo",
        "Balance enquiry",
        True,
        "atencion",
        9,
        120,
        0.97,
        self_service_p=0.45,
    ),
    ReasonDef(
        "consulta_movimientos",
        "cuentas",
        "Consulta de movimientos",
        "Transactions enquiry",
        True,
        "atencion",
        7,
        180,
        0.95,
        self_service_p=0.25,
    ),
    ReasonDef(
        "certificado", "cuentas", "Solicitud de certificado", "Certificate request", True, "atencion", 3, 210, 0.9
    ),
    ReasonDef(
        "comisiones",
        "cuentas",
        "Consulta de comisiones",
        "Fees enquiry",
        False,
        "atencion",
        4,
        260,
        0.85,
        (
            ("mantenimiento", "Comisión de mantenimiento", "Maintenance fee"),
            ("descubierto", "Comisión por descubierto", "Overdraft fee"),
        ),
    ),
    ReasonDef(
        "transferencia",
        "cuentas",
        "Transferencias",
        "Transfers",
        False,
        "atencion",
        5,
        240,
        0.85,
        (
            ("no_recibida", "Transferencia no recibida", "Transfer not received"),
            ("internacional", "Transferencia internacional", "International transfer"),
        ),
    ),
    ReasonDef(
        "bloqueo_tarjeta",
        "tarjetas",
        "Bloqueo de tarjeta",
        "Card block",
        False,
        "atencion",
        6,
        200,
        0.96,
        (("robo", "Robo", "Theft"), ("perdida", "Pérdida", "Loss")),
        case_p=0.15,
        case_subject="Reposición de tarjeta bloqueada",
    ),
    ReasonDef(
        "cargo_no_reconocido",
        "tarjetas",
        "Cargo no reconocido",
        "Unrecognised charge",
        False,
        "atencion",
        4,
        420,
        0.45,
        case_p=0.7,
        case_subject="Disputa de cargo no reconocido",
    ),
    ReasonDef(
        "activacion_tarjeta", "tarjetas", "Activación de tarjeta", "Card activation", True, "atencion", 3, 150, 0.97
    ),
    ReasonDef("pin", "tarjetas", "Recordatorio de PIN", "PIN reminder", True, "atencion", 3, 130, 0.95),
    ReasonDef(
        "limite_tarjeta", "tarjetas", "Cambio de límite de tarjeta", "Card limit change", False, "atencion", 2, 240, 0.9
    ),
    ReasonDef(
        "alta_producto",
        "productos",
        "Alta de producto",
        "New product",
        False,
        "ventas",
        6,
        540,
        0.7,
        (
            ("cuenta", "Apertura de cuenta", "Account opening"),
            ("tarjeta", "Nueva tarjeta", "New card"),
            ("deposito", "Depósito a plazo", "Term deposit"),
        ),
        case_p=0.2,
        case_subject="Contratación pendiente de documentación",
        sales=True,
    ),
    ReasonDef(
        "hipoteca",
        "productos",
        "Hipotecas",
        "Mortgages",
        False,
        "ventas",
        3,
        720,
        0.5,
        case_p=0.5,
        case_subject="Estudio de hipoteca",
        sales=True,
    ),
    ReasonDef(
        "prestamo",
        "productos",
        "Préstamo personal",
        "Personal loan",
        False,
        "ventas",
        3,
        600,
        0.6,
        case_p=0.3,
        case_subject="Solicitud de préstamo personal",
        sales=True,
    ),
    ReasonDef(
        "inversion",
        "productos",
        "Fondos e inversión",
        "Funds and investments",
        False,
        "ventas",
        2,
        660,
        0.7,
        sales=True,
    ),
    ReasonDef("seguros", "productos", "Seguros", "Insurance", False, "ventas", 2, 480, 0.75, sales=True),
    ReasonDef(
        "baja_producto",
        "productos",
        "Baja de producto",
        "Product cancellation",
        False,
        "ventas",
        3,
        420,
        0.8,
        case_p=0.2,
        case_subject="Solicitud de baja y retención",
    ),
    ReasonDef(
        "reclamacion",
        "reclamaciones",
        "Reclamación",
        "Complaint",
        False,
        "atencion",
        4,
        600,
        0.35,
        (
            ("comisiones", "Reclamación por comisiones", "Fees complaint"),
            ("atencion", "Reclamación por la atención recibida", "Service complaint"),
            ("oficina", "Reclamación sobre una oficina", "Branch complaint"),
        ),
        case_p=0.85,
        case_subject="Reclamación del cliente",
    ),
    ReasonDef(
        "seguimiento_gestion",
        "reclamaciones",
        "Seguimiento de una gestión",
        "Follow-up on a request",
        True,
        "atencion",
        4,
        240,
        0.6,
    ),
    ReasonDef(
        "cambio_datos",
        "datos",
        "Cambio de datos",
        "Change of personal details",
        False,
        "atencion",
        4,
        300,
        0.9,
        (
            ("direccion", "Cambio de dirección", "Address change"),
            ("telefono", "Cambio de teléfono", "Phone change"),
            ("email", "Cambio de correo electrónico", "E-mail change"),
        ),
    ),
    ReasonDef("documentacion", "datos", "Envío de documentación", "Sending documents", True, "atencion", 2, 200, 0.85),
    ReasonDef(
        "acceso_app",
        "digital",
        "Acceso a la app",
        "App access",
        False,
        "soporte-digital",
        6,
        360,
        0.85,
        (
            ("contrasena", "Contraseña olvidada", "Forgotten password"),
            ("usuario_bloqueado", "Usuario bloqueado", "Locked user"),
        ),
    ),
    ReasonDef(
        "firma_operaciones",
        "digital",
        "Firma de operaciones",
        "Transaction signing",
        False,
        "soporte-digital",
        3,
        300,
        0.8,
    ),
    ReasonDef("bizum", "digital", "Bizum", "Bizum payments", False, "soporte-digital", 3, 270, 0.85),
    ReasonDef("recibo_impagado", "cobros", "Recibo impagado", "Unpaid bill", False, "cobros", 3, 420, 0.7),
    ReasonDef("descubierto", "cobros", "Descubierto en cuenta", "Overdraft", False, "cobros", 2, 480, 0.65),
    ReasonDef(
        "plan_pagos",
        "cobros",
        "Plan de pagos",
        "Payment plan",
        False,
        "cobros",
        2,
        720,
        0.5,
        case_p=0.6,
        case_subject="Negociación de plan de pagos",
    ),
]


@dataclass(frozen=True)
class AgentDef:
    code: str
    name: str
    team: str
    skills: dict[str, int]
    queues: tuple[tuple[str, int, int, int | None], ...]  # (queue, rank, delay_s, reserve level)
    hourly_cost: float
    languages: tuple[str, ...] = ("es",)
    capacity: dict[str, int] = field(default_factory=lambda: {"voice": 1, "chat": 3, "email": 5})
    owns: tuple[str, ...] = ()  # segments whose customers this agent manages


AGENTS = [
    AgentDef(
        "lucia.martin",
        "Lucía Martín Pérez",
        "Atención",
        {"atencion": 5, "tarjetas": 4, "digital": 2},
        (("atencion", 1, 0, None), ("soporte-digital", 2, 0, None)),
        21.5,
        ("es", "en"),
    ),
    AgentDef(
        "javier.gomez",
        "Javier Gómez Ruiz",
        "Atención",
        {"atencion": 4, "tarjetas": 3},
        (("atencion", 1, 0, None),),
        19.8,
    ),
    AgentDef(
        "carmen.lopez",
        "Carmen López Navarro",
        "Atención",
        {"atencion": 3, "cobros": 2},
        (("atencion", 1, 0, None), ("cobros", 2, 0, None)),
        19.0,
    ),
    AgentDef("david.sanchez", "David Sánchez Molina", "Atención", {"atencion": 2}, (("atencion", 1, 0, None),), 18.0),
    AgentDef(
        "elena.fernandez",
        "Elena Fernández Castro",
        "Atención",
        {"atencion": 4, "digital": 3},
        (("atencion", 1, 0, None), ("soporte-digital", 2, 0, None)),
        20.5,
        ("es", "en"),
    ),
    AgentDef(
        "pablo.jimenez",
        "Pablo Jiménez Ortega",
        "Atención",
        {"atencion": 3, "tarjetas": 5},
        (("atencion", 1, 0, None),),
        20.0,
    ),
    AgentDef(
        "marta.ruiz",
        "Marta Ruiz Delgado",
        "Atención",
        {"atencion": 1},
        (("atencion", 1, 0, None),),
        17.5,
        capacity={"voice": 1, "chat": 2, "email": 3},
    ),
    AgentDef(
        "sergio.diaz",
        "Sergio Díaz Romero",
        "Atención",
        {"atencion": 3, "ventas": 2},
        (("atencion", 1, 0, None), ("ventas", 2, 0, None)),
        19.5,
    ),
    AgentDef(
        "laura.moreno",
        "Laura Moreno Gil",
        "Ventas",
        {"ventas": 5, "atencion": 3, "empresas": 3},
        (("ventas", 1, 0, None), ("atencion", 2, 0, 1)),
        24.0,
        ("es", "en"),
        owns=("empresas",),
    ),
    AgentDef(
        "alberto.munoz",
        "Alberto Muñoz Serrano",
        "Ventas",
        {"ventas": 4, "atencion": 2},
        (("ventas", 1, 0, None),),
        22.5,
    ),
    AgentDef("raquel.alonso", "Raquel Alonso Vidal", "Ventas", {"ventas": 3}, (("ventas", 1, 0, None),), 21.0),
    AgentDef(
        "hugo.navarro",
        "Hugo Navarro Iglesias",
        "Ventas",
        {"ventas": 2, "digital": 2},
        (("ventas", 1, 0, None), ("soporte-digital", 2, 0, None)),
        20.0,
        ("es", "en"),
    ),
    AgentDef(
        "rosa.torres", "Rosa Torres Medina", "Cobros", {"cobros": 5, "atencion": 3}, (("cobros", 1, 0, None),), 23.0
    ),
    AgentDef(
        "manuel.dominguez",
        "Manuel Domínguez Cano",
        "Cobros",
        {"cobros": 4},
        (("cobros", 1, 0, None),),
        21.5,
        capacity={"voice": 1, "chat": 0, "email": 5},
    ),
    AgentDef(
        "ines.vazquez",
        "Inés Vázquez Prieto",
        "Cobros",
        {"cobros": 3, "atencion": 2},
        (("cobros", 1, 0, None), ("atencion", 2, 0, None)),
        20.5,
    ),
    AgentDef(
        "beatriz.ramos",
        "Beatriz Ramos Calvo",
        "Premium",
        {"premium": 5, "ventas": 4, "atencion": 4},
        (("premium", 1, 0, None), ("ventas", 2, 0, None)),
        31.0,
        ("es", "en"),
        owns=("premium",),
    ),
    AgentDef(
        "alvaro.herrera",
        "Álvaro Herrera Santos",
        "Premium",
        {"premium": 4, "ventas": 3, "atencion": 3},
        (("premium", 1, 0, None),),
        29.5,
        owns=("premium",),
    ),
    AgentDef(
        "cristina.marin",
        "Cristina Marín Lozano",
        "Premium",
        {"premium": 4, "empresas": 5, "cobros": 2},
        (("premium", 1, 0, None), ("ventas", 3, 30, None)),
        32.0,
        ("es", "en"),
        owns=("premium", "empresas"),
    ),
    AgentDef(
        "ivan.gil",
        "Iván Gil Pascual",
        "Digital",
        {"digital": 5, "atencion": 2},
        (("soporte-digital", 1, 0, None), ("atencion", 2, 0, 1)),
        21.0,
        ("es", "en"),
        capacity={"voice": 1, "chat": 4, "email": 5},
    ),
    AgentDef(
        "nuria.castillo",
        "Nuria Castillo Reyes",
        "Digital",
        {"digital": 4, "tarjetas": 2},
        (("soporte-digital", 1, 0, None), ("atencion", 2, 0, None)),
        20.0,
        capacity={"voice": 1, "chat": 4, "email": 5},
    ),
]

# Whoever takes general enquiries also covers the 24-hour card line, after its own queues (rank 3).
AGENTS = [replace(a, queues=(*a.queues, (URGENT_QUEUE, 3, 0, None))) if "atencion" in a.skills else a for a in AGENTS]

SUPERVISOR = ("supervisor", "Teresa Ortiz Rubio")
ADMIN = ("admin", "Administración Banco Ejemplo")
