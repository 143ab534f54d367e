"""Flows running live: contacts arriving at entry points run their flow (flows/), its actions carried out
through the features' `do_*` actions, its state stored with every step so a restart resumes it."""
