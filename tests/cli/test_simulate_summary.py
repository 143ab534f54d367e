"""The `simulate` closing summary: each count with the word in its number, in Spanish and English."""

from __future__ import annotations

from centralita.cli.simulate import final_summary
from centralita.core.i18n import using
from centralita.simulation.live import Stats


def _summary(lang: str, stats: Stats) -> str:
    with using(lang):
        return "\n".join(final_summary(stats))


def test_one_of_each_is_singular() -> None:
    ones = Stats(
        arrivals=1,
        answered=1,
        abandoned=1,
        wrapped_up=1,
        offered=1,
        rejected=1,
        no_answer=1,
        closed_on_arrival=1,
        hung_up_at_stop=1,
        errors=1,
        closed_outcomes={"closed_hours": 1},
    )
    es = _summary("es", ones)
    assert es.startswith(
        "Final: 1 llegada, 1 atendido, 1 abandono, 1 cierre completado; 1 oferta a los bots (1 rechazada, "
        "1 sin respuesta); 1 terminado al llegar; 1 aún en espera al final (colgó); 1 error."
    ), es
    assert "Terminados al llegar, por causa: fuera de horario 1" in es
    assert "cerrados" not in es  # a wrap-up and a contact closed on arrival are no longer the same word
    en = _summary("en", ones)
    assert en.startswith(
        "Final: 1 arrival, 1 answered, 1 abandoned, 1 wrapped up; 1 offer to bots (1 rejected, 1 rang out); "
        "1 closed on arrival; 1 still waiting at the end (hung up); 1 error."
    ), en
    assert "Closed on arrival, by cause: outside hours 1" in en


def test_none_and_many_are_plural() -> None:
    many = Stats(arrivals=12, answered=9, abandoned=2, wrapped_up=8, offered=10, rejected=0, closed_on_arrival=3)
    many.closed_outcomes = {"closed_hours": 2, "queue_full": 1}
    es = _summary("es", many)
    assert "12 llegadas, 9 atendidos, 2 abandonos, 8 cierres completados; 10 ofertas a los bots (0 rechazadas" in es
    assert "3 terminados al llegar; 0 aún en espera al final (colgaron); 0 errores." in es
    assert "fuera de horario 2, cola llena 1" in es
    en = _summary("en", many)
    assert "12 arrivals, 9 answered, 2 abandoned, 8 wrapped up; 10 offers to bots (0 rejected" in en
    assert "0 errors." in en and "outside hours 2, queue full 1" in en
    assert "Closed on arrival" not in _summary("en", Stats())  # no breakdown when nothing was closed on arrival
