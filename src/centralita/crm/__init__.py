"""CRM: customers, their identities (phone, email, chat id, CRM id), cases and the customer 360."""
