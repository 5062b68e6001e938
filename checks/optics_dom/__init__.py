"""DOM decoding per vendor for the ``optics`` check: ``core`` holds the data model and the standard
tables (IF-MIB, ENTITY-MIB, LLDP); ``cisco``, ``entity`` (Arista, SONiC, generic RFC 3433), ``juniper``
and ``huawei`` each turn one device's walked columns into readings. Facts: ../shared/docs/optics.md §2,
and the recorded real devices in tests/data/devices/."""
