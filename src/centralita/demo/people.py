"""Made-up Spanish people and companies for the demo: names, phones (E.164), e-mails, DNI. Pure, seeded.

E-mail domains end in `.example` (RFC 2606), so no demo address can ever reach a real mailbox.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass

FIRST_NAMES_F = (
    "María",
    "Carmen",
    "Ana",
    "Isabel",
    "Laura",
    "Lucía",
    "Cristina",
    "Marta",
    "Elena",
    "Pilar",
    "Sara",
    "Paula",
    "Raquel",
    "Rosa",
    "Silvia",
    "Beatriz",
    "Julia",
    "Nuria",
    "Patricia",
    "Mercedes",
    "Alba",
    "Irene",
    "Andrea",
    "Rocío",
    "Sonia",
    "Noelia",
    "Inés",
    "Claudia",
    "Lorena",
    "Montserrat",
    "Consuelo",
    "Teresa",
    "Alicia",
    "Eva",
    "Natalia",
    "Miriam",
    "Carla",
    "Ainhoa",
    "Begoña",
    "Amparo",
    "Almudena",
    "Macarena",
    "Nerea",
    "Itziar",
    "Lidia",
)
FIRST_NAMES_M = (
    "Antonio",
    "José",
    "Manuel",
    "Francisco",
    "David",
    "Juan",
    "Javier",
    "Daniel",
    "Carlos",
    "Jesús",
    "Alejandro",
    "Miguel",
    "Rafael",
    "Pablo",
    "Sergio",
    "Fernando",
    "Jorge",
    "Luis",
    "Alberto",
    "Álvaro",
    "Adrián",
    "Diego",
    "Raúl",
    "Enrique",
    "Ramón",
    "Vicente",
    "Andrés",
    "Joaquín",
    "Rubén",
    "Óscar",
    "Víctor",
    "Iván",
    "Hugo",
    "Mario",
    "Marcos",
    "Ignacio",
    "Gonzalo",
    "Iñaki",
    "Jaume",
    "Xabier",
    "Emilio",
    "Agustín",
    "Tomás",
    "Salvador",
)
SURNAMES = (
    "García",
    "Rodríguez",
    "González",
    "Fernández",
    "López",
    "Martínez",
    "Sánchez",
    "Pérez",
    "Gómez",
    "Martín",
    "Jiménez",
    "Ruiz",
    "Hernández",
    "Díaz",
    "Moreno",
    "Muñoz",
    "Álvarez",
    "Romero",
    "Alonso",
    "Gutiérrez",
    "Navarro",
    "Torres",
    "Domínguez",
    "Vázquez",
    "Ramos",
    "Gil",
    "Ramírez",
    "Serrano",
    "Blanco",
    "Molina",
    "Morales",
    "Suárez",
    "Ortega",
    "Delgado",
    "Castro",
    "Ortiz",
    "Rubio",
    "Marín",
    "Sanz",
    "Núñez",
    "Iglesias",
    "Medina",
    "Garrido",
    "Cortés",
    "Castillo",
    "Santos",
    "Lozano",
    "Guerrero",
    "Cano",
    "Prieto",
    "Méndez",
    "Cruz",
    "Calvo",
    "Gallego",
    "Vidal",
    "León",
    "Márquez",
    "Herrera",
    "Peña",
    "Flores",
    "Cabrera",
    "Campos",
    "Vega",
    "Fuentes",
    "Carrasco",
    "Diez",
    "Caballero",
    "Reyes",
    "Nieto",
    "Aguilar",
    "Pascual",
    "Santana",
    "Herrero",
    "Montero",
    "Lorenzo",
    "Hidalgo",
    "Giménez",
    "Ibáñez",
    "Ferrer",
    "Durán",
    "Santiago",
    "Benítez",
    "Mora",
    "Vicente",
    "Vargas",
    "Arias",
    "Carmona",
    "Crespo",
    "Román",
    "Pastor",
    "Soto",
    "Sáez",
    "Velasco",
    "Moya",
    "Soler",
    "Parra",
    "Esteban",
    "Bravo",
    "Gallardo",
    "Rojas",
    "Pardo",
    "Merino",
    "Franco",
    "Espinosa",
    "Izquierdo",
    "Lara",
    "Rivas",
    "Silva",
    "Rivera",
    "Casado",
    "Arroyo",
    "Redondo",
    "Camacho",
    "Rey",
    "Vera",
    "Otero",
    "Luque",
    "Galán",
    "Montes",
    "Ríos",
    "Sierra",
    "Segura",
    "Carrillo",
    "Marcos",
    "Marti",
    "Soriano",
    "Mendoza",
    "Echeverría",
    "Etxeberria",
    "Puig",
    "Roig",
    "Vilanova",
    "Castells",
    "Ferreira",
    "Fraga",
    "Quintana",
)
# Customers who prefer English: residents from abroad.
FOREIGN_FIRST = ("James", "Emma", "Oliver", "Sophie", "Thomas", "Hannah", "Michael", "Charlotte", "Peter", "Anna")
FOREIGN_SURNAMES = ("Smith", "Taylor", "Brown", "Wilson", "Evans", "Walker", "Wright", "Hughes", "Clarke", "Murphy")

COMPANY_ACTIVITIES = (
    "Construcciones",
    "Transportes",
    "Talleres",
    "Distribuciones",
    "Frutas",
    "Reformas",
    "Asesoría",
    "Panadería",
    "Instalaciones",
    "Carpintería",
    "Clínica Dental",
    "Bodegas",
    "Ferretería",
    "Autoescuela",
    "Restaurante",
    "Inmobiliaria",
    "Gestoría",
    "Farmacia",
    "Electricidad",
    "Consultoría",
    "Imprenta",
    "Viveros",
    "Hostal",
    "Suministros Industriales",
    "Mudanzas",
    "Cerámicas",
    "Conservas",
    "Lavandería",
    "Óptica",
    "Papelería",
)
COMPANY_PLACES = (
    "del Norte",
    "Levante",
    "del Sur",
    "Mediterráneo",
    "Cantábrico",
    "Atlántico",
    "de la Sierra",
    "del Valle",
    "Castellana",
    "Ibérica",
    "del Ebro",
    "del Tajo",
    "Manchega",
    "Andaluza",
    "Gallega",
    "Riojana",
    "Balear",
)
COMPANY_FORMS = ("S.L.", "S.L.", "S.L.", "S.A.", "S.L.U.", "S. Coop.")
PROVINCES = (
    ("Madrid", 0.22),
    ("Barcelona", 0.16),
    ("Valencia", 0.08),
    ("Sevilla", 0.06),
    ("Málaga", 0.05),
    ("Alicante", 0.05),
    ("Murcia", 0.04),
    ("Cádiz", 0.03),
    ("Bizkaia", 0.03),
    ("A Coruña", 0.03),
    ("Asturias", 0.03),
    ("Zaragoza", 0.03),
    ("Baleares", 0.03),
    ("Las Palmas", 0.03),
    ("Valladolid", 0.02),
    ("Granada", 0.02),
    ("Navarra", 0.02),
    ("Toledo", 0.02),
    ("Cantabria", 0.02),
    ("Badajoz", 0.02),
    ("Salamanca", 0.01),
    ("La Rioja", 0.01),
    ("Girona", 0.01),
    ("Córdoba", 0.01),
)
# Geographic numbering: province → landline prefix after +34 (for companies' switchboards).
LANDLINE_PREFIX = {
    "Madrid": "91",
    "Barcelona": "93",
    "Valencia": "96",
    "Sevilla": "95",
    "Málaga": "95",
    "Alicante": "96",
    "Murcia": "968",
    "Cádiz": "956",
    "Bizkaia": "94",
    "A Coruña": "981",
    "Asturias": "98",
    "Zaragoza": "976",
    "Baleares": "971",
    "Las Palmas": "928",
    "Valladolid": "983",
    "Granada": "958",
    "Navarra": "948",
    "Toledo": "925",
    "Cantabria": "942",
    "Badajoz": "924",
    "Salamanca": "923",
    "La Rioja": "941",
    "Girona": "972",
    "Córdoba": "957",
}
MAIL_DOMAINS = ("correo.example", "buzon.example", "mimail.example", "telemail.example")
DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def ascii_slug(text: str) -> str:
    """`José Ñúñez` → `jose.nunez`: lower-case ASCII for user names and e-mail local parts."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    out = []
    for ch in plain.lower():
        if ch.isalnum():
            out.append(ch)
        elif out and out[-1] != ".":
            out.append(".")
    return "".join(out).strip(".")


def dni(number: int) -> str:
    """A DNI with its correct control letter (the number modulo 23)."""
    return f"{number:08d}{DNI_LETTERS[number % 23]}"


@dataclass(frozen=True)
class Person:
    name: str
    kind: str  # person | company
    language: str
    province: str
    phones: tuple[str, ...]
    email: str
    national_id: str | None


class PeopleFactory:
    """Unique phones, e-mails and DNI numbers across one demo load."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._phones: set[str] = set()
        self._emails: set[str] = set()
        self._dnis: set[int] = set()
        self._provinces = [p for p, _ in PROVINCES]
        self._province_weights = [w for _, w in PROVINCES]

    def mobile(self) -> str:
        while True:
            first = self.rng.choice("6666667")  # 6xx mostly, some 7[1-4]x
            rest = self.rng.randrange(10_000_000, 100_000_000) if first == "6" else self.rng.randrange(1, 5)
            number = f"+346{rest:08d}" if first == "6" else f"+347{rest}{self.rng.randrange(0, 10_000_000):07d}"
            if number not in self._phones:
                self._phones.add(number)
                return number

    def landline(self, province: str) -> str:
        prefix = LANDLINE_PREFIX.get(province, "91")
        while True:
            number = "+34" + prefix + "".join(str(self.rng.randrange(10)) for _ in range(9 - len(prefix)))
            if number[3 + len(prefix)] != "0" and number not in self._phones:
                self._phones.add(number)
                return number

    def _email(self, local: str, domain: str) -> str:
        candidate = f"{local}@{domain}"
        n = 1
        while candidate in self._emails:
            n += 1
            candidate = f"{local}{n}@{domain}"
        self._emails.add(candidate)
        return candidate

    def _dni(self) -> str:
        while True:
            number = self.rng.randrange(1_000_000, 80_000_000)
            if number not in self._dnis:
                self._dnis.add(number)
                return dni(number)

    def person(self, english: bool = False, two_phones: bool = False) -> Person:
        rng = self.rng
        province = rng.choices(self._provinces, self._province_weights)[0]
        if english:
            first = rng.choice(FOREIGN_FIRST)
            surname = rng.choice(FOREIGN_SURNAMES)
            name = f"{first} {surname}"
            local = ascii_slug(f"{first}.{surname}")
        else:
            first = rng.choice(FIRST_NAMES_F if rng.random() < 0.5 else FIRST_NAMES_M)
            s1, s2 = rng.choice(SURNAMES), rng.choice(SURNAMES)
            name = f"{first} {s1} {s2}"
            local = ascii_slug(rng.choice((f"{first}.{s1}", f"{first}{s1}{s2[0]}", f"{first[0]}{s1}{s2}")))
        phones = [self.mobile()]
        if two_phones:
            phones.append(self.mobile() if rng.random() < 0.6 else self.landline(province))
        email = self._email(local, rng.choice(MAIL_DOMAINS))
        national_id = None if english else self._dni()
        return Person(name, "person", "en" if english else "es", province, tuple(phones), email, national_id)

    def company(self, two_phones: bool = False) -> Person:
        rng = self.rng
        province = rng.choices(self._provinces, self._province_weights)[0]
        activity = rng.choice(COMPANY_ACTIVITIES)
        if rng.random() < 0.55:
            owner = rng.choice(SURNAMES)
            core = f"{activity} {owner}" + (" e Hijos" if rng.random() < 0.15 else "")
        else:
            core = f"{activity} {rng.choice(COMPANY_PLACES)}"
        name = f"{core} {rng.choice(COMPANY_FORMS)}"
        domain = ascii_slug(core).replace(".", "-") + ".example"
        phones = [self.landline(province)]
        if two_phones:
            phones.append(self.mobile())
        email = self._email(rng.choice(("info", "administracion", "contabilidad", "gerencia")), domain)
        return Person(name, "company", "es", province, tuple(phones), email, None)
