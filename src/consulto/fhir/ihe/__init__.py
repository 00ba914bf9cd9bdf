"""IHE ITI Scheduling on top of the booking services: ``$find`` (ITI-115), ``$hold`` (ITI-116),
``$book`` (ITI-117, which also cancels), and who sees which appointments and patients.

Nothing here decides whether a slot may be taken: ``$find`` reads the availability the patient
and regulation pages read (``scheduling.cache``, in the openings the caller's audience sees,
``Consumer.audience_for``), and ``$hold``/``$book``/cancel go through ``scheduling.booking``, whose
transactions and database constraints refuse a double booking whatever the door.

Who may do what:

- an organisation's software (a partner with ``system/Appointment.write``) holds and books in the
  slots it is shown: every opening of its own organisation's agendas, the professionals' ones of
  other organisations; the patient is named in the request (a Patient resource). It reads and
  cancels its organisation's appointments and those it booked itself (as a regulator sees what
  they booked). In another organisation's agendas its live holds count as one patient's
  (``CONSULTO_HOLDS_AT_ONCE``): no software may hold a practice's week;
- a person with their own API token holds and books for themself and their relatives, as the
  REST API lets them (its limits apply), and reads and cancels their own appointments; with a
  browser session they only read;
- the SAS platform has ``system/Slot.read`` only: it may ``$find``, not hold nor book.
"""
