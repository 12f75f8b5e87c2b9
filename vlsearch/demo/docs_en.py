"""English demo documents: a fictional company's data-centre and IT-operations material."""

# prose paragraphs read better unwrapped than split to the line limit
# ruff: noqa: E501

from __future__ import annotations

from vlsearch.demo.writers import (
    Doc,
    Figure,
    Heading,
    PageBreak,
    Para,
    ScannedPage,
    Sheet,
    Slide,
    Table,
    diagram_png,
    panel_png,
    text_png,
)

NODE07_LEDS = (
    ("PWR", "#2ecc40"),
    ("HDD", "#ffb000"),
    ("NET", "#2ecc40"),
    ("FAULT", "#e0201b"),
    ("ID", "#1f6fe0"),
)


def node07_manual() -> Doc:
    error_codes = (
        ("E-01", "CMOS battery low", "Replace the CR2032 battery on the system board."),
        (
            "E-03",
            "BMC not responding",
            "Reseat the node; if it persists, reflash BMC firmware 4.2.1 or later.",
        ),
        ("E-05", "CPU 1 thermal trip", "Check heatsink seating and thermal paste; verify fan 1-3 speed."),
        ("E-08", "Fan 4 failure", "Replace fan module FAN-40 (part FN-4028-HS)."),
        ("E-11", "PSU 1 input lost", "Check the PDU feed and power cord; swap to PSU slot 2 to isolate."),
        ("E-12", "PSU redundancy lost", "One power supply is missing or failed; replace PSU-800W-PL."),
        ("E-14", "Correctable ECC threshold exceeded", "Schedule DIMM replacement in the next window."),
        (
            "E-17",
            "Uncorrectable memory (ECC) error on DIMM B2",
            "Node halts; replace DIMM B2 (part MEM-32G-DDR5) and run the memory test.",
        ),
        ("E-19", "NVMe backplane link down", "Reseat the backplane cable J12; replace cable CBL-NV-12."),
        ("E-22", "RAID controller cache battery failed", "See RAID error sheet code R-204; replace the BBU."),
        ("E-25", "Chassis intrusion detected", "Close the lid, then clear the event in the BMC event log."),
        (
            "E-31",
            "Firmware image checksum mismatch",
            "Re-apply the firmware bundle from the recovery partition.",
        ),
    )
    scan = text_png(
        [
            "FIELD SERVICE LABEL - NODE-07",
            "Model: HX-2200 compute node",
            "Serial number: HX22-0007-4471",
            "Warranty: next business day, expires 2028-06-30",
            "Service hotline: +1 800 555 0107",
            "Before opening the chassis:",
            "  1. Shut down the OS and wait for PWR to turn off",
            "  2. Remove both power cords",
            "  3. Wear an ESD wrist strap",
            "Red FAULT light on? Read the E-code on the LCD",
            "and look it up in section 3 of this manual.",
        ]
    )
    return Doc(
        title="Node-07 Hardware Diagnostic Manual",
        author="Data Center Engineering",
        blocks=(
            Heading("1. Overview"),
            Para(
                "Node-07 is an HX-2200 two-socket compute node installed in rack B3, position U17, of the "
                "primary data center. It runs the batch analytics cluster and is monitored by the baseboard "
                "management controller (BMC), which records hardware events and drives the front-panel status "
                "lights. This manual explains how to read the status lights, how to interpret the POST error "
                "codes shown on the front LCD, and the standard procedure for isolating a failed component."
            ),
            Para(
                "Always check the BMC event log before replacing parts. Many faults, such as a tripped power "
                "feed or a loose cable, clear after the cause is removed and do not need a replacement part. "
                "Record every action in the ticket so that the next engineer can see what was already tried."
            ),
            Heading("2. Front panel and status lights"),
            Para(
                "The front panel carries five status lights: power (PWR), disk activity (HDD), network (NET), "
                "system fault (FAULT) and unit identification (ID). Figure 1 shows their positions from left "
                "to right. The FAULT light is the only red light on the node."
            ),
            Figure(panel_png("NODE-07  HX-2200", NODE07_LEDS), "Figure 1: Node-07 front panel status lights"),
            Table(
                ("Light", "State", "Meaning"),
                (
                    ("PWR", "Solid green", "Node powered on and running normally."),
                    ("PWR", "Blinking green", "Standby power only; the node is off but the BMC is alive."),
                    ("HDD", "Flickering amber", "Disk activity; normal during workload."),
                    (
                        "NET",
                        "Off",
                        "No link on the management or data port; check the cable and switch port.",
                    ),
                    (
                        "FAULT",
                        "Solid red",
                        "Critical hardware fault. The LCD shows an E-code; see section 3.",
                    ),
                    (
                        "FAULT",
                        "Blinking red",
                        "Thermal warning: inlet temperature above 35 C or a fan failed.",
                    ),
                    ("ID", "Solid blue", "Identify beacon switched on remotely to help locate the node."),
                ),
            ),
            Para(
                "A red warning light (FAULT) never clears by itself. After the fault is repaired, clear the "
                "event in the BMC web interface under Health > Event Log, or run 'ipmitool sel clear'. If the "
                "light comes back within ten minutes, the underlying fault is still present."
            ),
            PageBreak(),
            Heading("3. POST error codes"),
            Para(
                "During power-on self test (POST) the node prints a code on the front LCD when a check fails. "
                "Codes below E-10 usually point to the system board or cooling; codes from E-10 to E-19 point "
                "to power and memory; codes from E-20 upward point to storage, security and firmware. The table "
                "lists the codes seen in production and the first action to take."
            ),
            Table(("Code", "Description", "First action"), error_codes),
            Para(
                "Error E-17 stops the boot: the memory controller found an uncorrectable error on DIMM B2 and "
                "halts to protect data. Replace the DIMM with the same part (MEM-32G-DDR5), then run the "
                "extended memory test from the BMC before returning the node to service. If E-17 appears again "
                "on a new DIMM, the fault is in the memory channel on the system board; open a case with the "
                "vendor and attach the BMC diagnostic bundle."
            ),
            PageBreak(),
            Heading("4. Diagnostic procedure"),
            Para(
                "Confirm the fault: note the colour of the FAULT light and the E-code on the LCD.", "number"
            ),
            Para(
                "Export the BMC event log and the diagnostic bundle and attach both to the ticket.", "number"
            ),
            Para("Drain the node from the cluster scheduler so no new jobs land on it.", "number"),
            Para("Shut down the operating system and remove both power cords.", "number"),
            Para(
                "Wear an ESD wrist strap, open the lid and reseat the component the E-code names.", "number"
            ),
            Para(
                "Power on and watch POST. If the code persists, replace the part from spares stock.", "number"
            ),
            Para("Clear the event log, return the node to the scheduler and close the ticket.", "number"),
            Heading("5. Cooling and fans"),
            Para(
                "Node-07 has four hot-swap fan modules. Each fan reports its speed to the BMC; a fan running "
                "below 1,800 RPM is flagged as failed and raises code E-08. Fans can be replaced while the node "
                "runs, but the lid must not stay open longer than 60 seconds, or the CPUs will throttle. Keep "
                "the cold aisle inlet between 18 and 27 C; above 35 C the FAULT light blinks red and the node "
                "shuts down at 45 C."
            ),
            Heading("6. Appendix: field service label"),
            Para(
                "The next page reproduces the field service label fixed inside the lid, scanned from the "
                "installed node. It lists the serial number and warranty needed when opening a vendor case."
            ),
            ScannedPage(scan),
        ),
    )


def weekly_ops_report() -> Doc:
    return Doc(
        title="Infrastructure Operations Weekly Report - Week 46",
        author="Infrastructure Operations",
        blocks=(
            Heading("Summary"),
            Para(
                "Week 46 was stable. Overall service availability was 99.97 percent against a target of "
                "99.9 percent. There were two minor incidents and no major incidents. The storage migration "
                "for the finance file shares finished one day early, and the quarterly disaster recovery test "
                "for the HR system passed with a recovery time of 42 minutes."
            ),
            Heading("Incidents"),
            Para(
                "INC-5521: the corporate VPN rejected logins for 18 minutes on Tuesday morning after an expired "
                "intermediate certificate on the authentication proxy. The certificate was renewed and a "
                "monitoring check for certificate expiry was added."
            ),
            Para(
                "INC-5530: the batch analytics cluster ran at reduced capacity for three hours on Thursday while "
                "Node-07 was drained for a planned firmware update. Jobs were rescheduled automatically and no "
                "deadlines were missed."
            ),
            Heading("Changes"),
            Table(
                ("Change", "System", "Result"),
                (
                    ("CHG-1204", "Core switch firmware 9.3.10", "Completed, no impact"),
                    ("CHG-1207", "Mail gateway spam policy", "Completed"),
                    ("CHG-1211", "Backup retention 35 to 45 days", "Completed"),
                    ("CHG-1215", "Batch cluster BIOS update", "Completed, 11 of 12 nodes"),
                ),
            ),
            Heading("Capacity"),
            Para(
                "Primary storage is at 71 percent of usable capacity; growth is 1.2 TB per week. Virtualization "
                "hosts average 58 percent CPU and 66 percent memory. Two additional hosts are on order and "
                "should arrive in week 49; racking follows the standard server racking SOP."
            ),
            Heading("Next week"),
            Para("Patch window for Windows servers on Wednesday 22:00-02:00.", "bullet"),
            Para("Replace UPS batteries in room 2 (vendor visit on Thursday).", "bullet"),
            Para("Review of the on-call rota for December.", "bullet"),
        ),
    )


def racking_sop() -> Doc:
    return Doc(
        title="Standard Operating Procedure: Server Racking",
        author="Data Center Engineering",
        blocks=(
            Heading("Purpose and scope"),
            Para(
                "This procedure describes how to install a new rack server into a data center cabinet safely "
                "and consistently. It applies to all 1U and 2U servers installed by staff or contractors. Two "
                "people are required for any server heavier than 18 kg."
            ),
            Heading("Before you start"),
            Para(
                "Check the change ticket for the target rack and unit position, confirm that the rack has free "
                "power on both PDUs, and make sure the rail kit in the box matches the cabinet depth. Bring an "
                "ESD wrist strap, a cordless screwdriver with a PH2 bit, cage nuts and a label printer."
            ),
            Heading("Procedure"),
            Para(
                "Unbox the server on a clean cart, keep the foam, and check the packing list for the rail kit.",
                "number",
            ),
            Para(
                "Inspect the chassis for transport damage and record the serial number in the asset system.",
                "number",
            ),
            Para(
                "Install the rails: hook the rear of each rail into the cabinet posts at the marked unit, then "
                "the front, until the latches click.",
                "number",
            ),
            Para("Attach the inner rails to both sides of the server chassis.", "number"),
            Para(
                "With two people, lift the server, align the inner rails with the cabinet rails and slide it "
                "into the rack until it locks.",
                "number",
            ),
            Para(
                "Fasten the screws: secure the front ears to the cabinet with two M6 screws, torque 3 Nm.",
                "number",
            ),
            Para(
                "Connect both power cords to different PDUs (A and B feeds) and the network cables to the "
                "patch panel ports in the ticket.",
                "number",
            ),
            Para(
                "Label the server front and rear with its hostname and power on to check that all status "
                "lights are green.",
                "number",
            ),
            Figure(
                diagram_png(
                    ["Unbox", "Install\nrails", "Slide into\nrack", "Fasten\nscrews", "Cable &\npower"]
                ),
                "Figure 1: Racking workflow",
            ),
            Heading("Safety"),
            Para(
                "Never extend more than one server from a rack at a time; the cabinet can tip over. Load racks "
                "from the bottom up. Stop work and call the shift lead if a rail does not lock."
            ),
        ),
    )


def training_slides() -> tuple[str, list[Slide]]:
    return "Data Center Onboarding Training", [
        Slide(
            "Welcome to the data center team",
            (
                "Who we are: 14 engineers across two sites",
                "What you will learn today: safety, access, monitoring, incident handling",
                "Your buddy will sign off each module",
            ),
            notes="Introduce the buddy system and hand out the onboarding checklist.",
        ),
        Slide(
            "Access and safety rules",
            (
                "Badge in and out of every room, no tailgating",
                "ESD strap for any work inside a chassis",
                "Two-person lift for servers over 18 kg",
                "Fire suppression: leave when the alarm sounds",
            ),
            notes="Stress that the gas suppression system discharges 30 seconds after the alarm.",
        ),
        Slide(
            "Reading server status lights",
            ("Green means healthy. A red warning light means a hardware fault: read the code on the LCD.",),
            notes="Use Node-07 in rack B3 as the worked example; its manual lists every E-code.",
            picture=Figure(panel_png("NODE-07  HX-2200", NODE07_LEDS), "Front panel with a red FAULT light"),
        ),
        Slide(
            "Escalation matrix",
            ("Who to call, and how fast",),
            table=Table(
                ("Severity", "Example", "Response time"),
                (
                    ("P1", "Site power or cooling failure", "15 minutes"),
                    ("P2", "Cluster node down, redundancy lost", "1 hour"),
                    ("P3", "Single disk or fan failure", "Next business day"),
                ),
            ),
            notes="P1 incidents page the duty manager automatically.",
        ),
        Slide(
            "Racking a new server",
            ("Follow the server racking SOP step by step",),
            picture=Figure(
                diagram_png(["Plan", "Rack", "Cable", "Verify"]),
                "Lifecycle of a new server: plan, rack, cable, verify",
            ),
            notes="Practical session in room 2 after lunch.",
        ),
    ]


def raid_error_sheets() -> list[Sheet]:
    codes = (
        (
            "R-101",
            "Virtual disk degraded",
            "Warning",
            "One member disk failed; replace it and let rebuild run.",
        ),
        ("R-102", "Virtual disk offline", "Critical", "Two or more disks failed; restore from backup."),
        ("R-110", "Rebuild started", "Info", "No action."),
        ("R-111", "Rebuild completed", "Info", "No action."),
        ("R-115", "Rebuild failed: media error on source", "Critical", "Run consistency check; call vendor."),
        ("R-120", "Predictive failure (SMART) on disk", "Warning", "Replace the disk in the next window."),
        (
            "R-130",
            "Foreign configuration found",
            "Warning",
            "Import or clear the foreign config deliberately.",
        ),
        ("R-140", "Patrol read found correctable errors", "Info", "Monitor; no action."),
        ("R-201", "Controller cache disabled", "Warning", "Write-back off: performance degraded."),
        (
            "R-204",
            "Cache battery (BBU) failed",
            "Critical",
            "Replace BBU part BBU-9460; cache stays write-through.",
        ),
        ("R-205", "Cache battery learn cycle", "Info", "Normal monthly cycle, write-through for 2 hours."),
        ("R-301", "Controller firmware fault", "Critical", "Collect TTY log, update firmware, call vendor."),
        ("R-310", "Controller temperature high", "Warning", "Check airflow and fan speed in the chassis."),
        ("R-402", "Enclosure fan failed", "Warning", "Replace the enclosure fan module."),
        ("R-505", "Disk missing from slot", "Warning", "Reseat the disk; check the backplane cable."),
    )
    escalation = (
        ("Critical", "P2", "Storage on-call", "1 hour"),
        ("Warning", "P3", "Data center team", "Next business day"),
        ("Info", "-", "None", "-"),
    )
    return [
        Sheet("RAID Errors", ("Code", "Message", "Severity", "Recommended action"), codes),
        Sheet("Escalation", ("Severity", "Priority", "Owner", "Response"), escalation),
    ]


def spare_parts_sheets() -> list[Sheet]:
    parts = (
        ("MEM-32G-DDR5", "32 GB DDR5-4800 RDIMM", "HX-2200", 12, "Cage 2, shelf A"),
        ("PSU-800W-PL", "800 W Platinum power supply", "HX-2200", 4, "Cage 2, shelf B"),
        ("FN-4028-HS", "Hot-swap fan module 40 mm", "HX-2200", 8, "Cage 2, shelf B"),
        ("CBL-NV-12", "NVMe backplane cable J12", "HX-2200", 3, "Cage 2, shelf C"),
        ("BBU-9460", "RAID cache battery module", "RC-9460 controller", 2, "Cage 1, shelf A"),
        ("SSD-1T92-U2", "1.92 TB NVMe U.2 SSD", "HX-2200 / ST-400", 6, "Cage 1, shelf D"),
        ("HDD-16T-SAS", "16 TB 7.2k SAS HDD", "ST-400 storage shelf", 10, "Cage 1, shelf D"),
        ("BAT-CR2032", "CMOS battery CR2032", "All servers", 25, "Cage 2, drawer 1"),
        ("RAIL-1U-SL", "1U sliding rail kit", "1U servers", 5, "Cage 3"),
        ("SFP-25G-SR", "25G SFP28 SR optic", "Leaf switches", 20, "Cage 3, drawer 2"),
    )
    return [
        Sheet("Spare Parts", ("Part number", "Description", "Fits", "Quantity", "Location"), parts),
    ]


def faq() -> Doc:
    return Doc(
        title="IT Helpdesk FAQ",
        blocks=(
            Heading("Accounts and passwords"),
            Heading("How do I reset my password?", 2),
            Para(
                "Go to the self-service portal at https://password.example.internal, confirm your identity with "
                "the authenticator app, and choose a new password of at least 14 characters. The new password "
                "works on the VPN and email within five minutes."
            ),
            Heading("My account is locked. What now?", 2),
            Para(
                "Accounts lock after ten wrong attempts and unlock automatically after 30 minutes. If you need "
                "access sooner, call the helpdesk on extension 4357 and have your employee number ready."
            ),
            Heading("Hardware"),
            Heading("My laptop does not charge", 2),
            Para(
                "Try a different power outlet and check that the charger light is on. If the battery icon shows "
                "'plugged in, not charging', open a ticket; loan laptops are available at the service desk."
            ),
            Heading("Who do I call if a server shows a red warning light?", 2),
            Para(
                "Server hardware belongs to the data center team. Open a P2 ticket for the data center queue "
                "with the server name and the code shown on the front display, e.g. E-17. Do not power cycle "
                "production servers yourself."
            ),
            Heading("Software"),
            Heading("How do I request new software?", 2),
            Para(
                "Use the software catalogue in the service portal. Licensed software needs approval from your "
                "manager; free tools are checked by security within two business days."
            ),
        ),
    )


def vpn_guide() -> Doc:
    return Doc(
        title="Remote Access (VPN) Guide",
        blocks=(
            Heading("Overview"),
            Para(
                "The corporate VPN gives access to internal applications from home or while travelling. It uses "
                "the GlobalConnect client with certificate and multi-factor authentication. Split tunnelling is "
                "enabled: only traffic for internal networks goes through the VPN."
            ),
            Heading("Connecting"),
            Para("Start the GlobalConnect client and choose the gateway closest to you.", "number"),
            Para("Sign in with your network account and approve the push notification.", "number"),
            Para("Wait for the shield icon to turn green before opening internal sites.", "number"),
            Heading("Troubleshooting"),
            Table(
                ("Symptom", "Cause", "Fix"),
                (
                    ("Error 809", "Home router blocks IPsec", "Switch the client to SSL mode"),
                    (
                        "Certificate expired",
                        "Device certificate older than one year",
                        "Re-enrol in the portal",
                    ),
                    ("Slow connection", "Distant gateway", "Pick the nearest gateway"),
                ),
            ),
            Para(
                "If none of this helps, collect the client log (Help > Export logs) and open a ticket with the "
                "service desk."
            ),
        ),
    )


ONCALL_NOTES = """On-call handbook (plain text edition)

The on-call engineer carries the phone from Monday 09:00 to the next Monday 09:00. Acknowledge every page within 5 minutes, even if you cannot fix the problem at once.

When a hardware alert arrives for a cluster node, such as Node-07, check the monitoring dashboard first. If the node shows a red fault light or an E-code, drain it from the scheduler and open a ticket for the data center team. Do not try to repair hardware at night unless the cluster has lost redundancy.

Escalation: if a P1 incident is not under control within 30 minutes, call the duty manager. If storage or the core network is involved, also page the storage or network on-call engineer; their numbers are pinned in the on-call channel. Never wait for an email reply during an incident.

Every page gets a ticket, even a false alarm. Note the time of the page, the time you acknowledged it, what you checked and what you changed. Tickets for false alarms go to the monitoring team so that they can tune the alert.

Handover happens every Monday in the operations stand-up. Write down open incidents, pending changes and anything unusual you noticed during the week.
"""
