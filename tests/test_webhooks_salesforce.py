"""Salesforce outbound-message receiver: org id and token checks, safe XML, mapping, and the SOAP Ack."""

import xml.etree.ElementTree as ET

import pytest

from connectors.webhooks import MalformedPayload, NotConfiguredWebhook, SignatureInvalid, WebhookRequest, receiver_for
from connectors.webhooks.salesforce import SalesforceReceiver

ORG_15, ORG_18 = "00D5g000004XyZa", "00D5g000004XyZaEAK"
URL = "https://assist.example.com/webhooks/salesforce"
NOW = 1_705_521_600.0  # 2024-01-17T20:00:00Z


def envelope(notifications, org_id=ORG_18, session="<SessionId>00D5g000004XyZa!AQ4AQFakeSession</SessionId>"):
    """An outbound message laid out as the outbound-messaging WSDL defines it."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
 xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>{org_id}</OrganizationId>
   <ActionId>04k5g000000CaRlAAK</ActionId>
   {session}
   <EnterpriseUrl>https://acme.my.salesforce.com/services/Soap/c/60.0/00D5g000004XyZa</EnterpriseUrl>
   <PartnerUrl>https://acme.my.salesforce.com/services/Soap/u/60.0/00D5g000004XyZa</PartnerUrl>
{notifications}
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>""".encode()


def notification(notification_id, sobject_type, fields):
    return f"""   <Notification>
    <Id>{notification_id}</Id>
    <sObject xsi:type="sf:{sobject_type}" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
{fields}
    </sObject>
   </Notification>"""


CONTACT = notification("04l5g00000AbCdEAAV", "Contact", """     <sf:Id>0035g00000XyZ12AAB</sf:Id>
     <sf:Email>ada@example.com</sf:Email>
     <sf:FirstName>Ada</sf:FirstName>
     <sf:LastModifiedDate>2024-01-17T19:55:04.000Z</sf:LastModifiedDate>
     <sf:LastName>Lovelace</sf:LastName>
     <sf:MobilePhone>+44 7700 900123</sf:MobilePhone>
     <sf:Phone xsi:nil="true"/>""")
CASE = notification("04l5g00000AbCdFAAV", "Case", """     <sf:Id>5005g00000Qw3rTAAR</sf:Id>
     <sf:ContactId>0035g00000XyZ12AAB</sf:ContactId>
     <sf:CreatedDate>2024-01-17T19:40:00.000Z</sf:CreatedDate>
     <sf:Description>Card charged twice &amp; no receipt</sf:Description>
     <sf:IsClosed>false</sf:IsClosed>
     <sf:LastModifiedDate>2024-01-17T19:56:10.000Z</sf:LastModifiedDate>
     <sf:Priority>High</sf:Priority>
     <sf:Status>Working</sf:Status>
     <sf:Subject>Refund</sf:Subject>""")
TASK = notification("04l5g00000AbCdGAAV", "Task", """     <sf:Id>00T5g00000Lm9PqEAJ</sf:Id>
     <sf:ActivityDate>2024-01-19</sf:ActivityDate>
     <sf:CreatedDate>2024-01-17T19:57:00.000Z</sf:CreatedDate>
     <sf:Description>Confirm the refund went through</sf:Description>
     <sf:IsClosed>false</sf:IsClosed>
     <sf:Subject>Call back</sf:Subject>
     <sf:TaskSubtype>Call</sf:TaskSubtype>
     <sf:WhatId>5005g00000Qw3rTAAR</sf:WhatId>
     <sf:WhoId>0035g00000XyZ12AAB</sf:WhoId>""")
# One outbound message is bound to one object, so Salesforce itself batches notifications of one
# type; mixing three keeps the test short and the parser treats each notification on its own.
MESSAGE = envelope("\n".join([CONTACT, CASE, TASK]))


@pytest.fixture
def receiver():
    """A receiver for the org in the sample message, configured with its 15-character id."""
    return SalesforceReceiver({"ASSIST_SALESFORCE_ORG_ID": ORG_15})


def request(body=MESSAGE, url=URL, now=NOW):
    return WebhookRequest(method="POST", url=url, headers={"content-type": "text/xml; charset=utf-8",
                                                           "soapaction": '""'}, body=body, now=now)


# -- org id and token ---------------------------------------------------------------
@pytest.mark.parametrize("configured, sent", [(ORG_15, ORG_18), (ORG_18, ORG_18), (ORG_18, ORG_15),
                                              (ORG_15, ORG_15), (f" {ORG_18}\n", ORG_18)])
def test_15_and_18_character_org_ids_match(configured, sent):
    SalesforceReceiver({"ASSIST_SALESFORCE_ORG_ID": configured}).verify(request(envelope(CONTACT, org_id=sent)))


@pytest.mark.parametrize("sent", ["00D5g000004XyZb", "00D5g000004XyZbEAK", "00d5g000004xyza", "",
                                  "00D5g000004XyZ", "00D5g000004XyZaEA", f"{ORG_18}X"])
def test_another_org_is_rejected(receiver, sent):
    with pytest.raises(SignatureInvalid) as caught:
        receiver.verify(request(envelope(CONTACT, org_id=sent)))
    assert caught.value.status == 401


def test_a_message_without_org_id_is_rejected(receiver):
    body = MESSAGE.replace(f"<OrganizationId>{ORG_18}</OrganizationId>".encode(), b"")
    with pytest.raises(SignatureInvalid):
        receiver.verify(request(body))


@pytest.mark.parametrize("settings", [{}, {"ASSIST_SALESFORCE_ORG_ID": ""}, {"ASSIST_SALESFORCE_ORG_ID": "00D-x"}])
def test_a_missing_or_invalid_org_id_setting_is_not_configured(settings):
    with pytest.raises(NotConfiguredWebhook):
        SalesforceReceiver(settings).verify(request())


def test_the_token_is_required_when_configured():
    receiver = SalesforceReceiver({"ASSIST_SALESFORCE_ORG_ID": ORG_15,
                                   "ASSIST_SALESFORCE_WEBHOOK_TOKEN": "s3cret-Tok"})
    receiver.verify(request(url=f"{URL}?token=s3cret-Tok"))
    for url in (URL, f"{URL}?token=", f"{URL}?token=wrong", f"{URL}?token=s3cret-Tok&token=s3cret-Tok",
                f"{URL}?Token=s3cret-Tok"):
        with pytest.raises(SignatureInvalid):
            receiver.verify(request(url=url))


def test_the_token_is_checked_before_the_body_is_parsed():
    receiver = SalesforceReceiver({"ASSIST_SALESFORCE_ORG_ID": ORG_15, "ASSIST_SALESFORCE_WEBHOOK_TOKEN": "tok"})
    with pytest.raises(SignatureInvalid):
        receiver.verify(request(b"<not xml", url=URL))


def test_without_a_token_setting_the_query_is_ignored(receiver):
    receiver.verify(request(url=f"{URL}?token=anything"))


def test_the_registry_builds_this_receiver():
    assert isinstance(receiver_for("salesforce", {"ASSIST_SALESFORCE_ORG_ID": ORG_15}), SalesforceReceiver)


# -- unsafe and malformed XML ---------------------------------------------------------
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>&lol2;</soapenv:Body>
</soapenv:Envelope>"""
XXE = (MESSAGE
       .replace(b"?>", b'?>\n<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', 1)
       .replace(b"<sf:Subject>Refund</sf:Subject>", b"<sf:Subject>&xxe;</sf:Subject>"))


INTERNAL_ENTITY = (MESSAGE  # well-formed and otherwise valid: only the DTD check stops it
                   .replace(b"?>", b'?>\n<!DOCTYPE x [<!ENTITY subject "Refund">]>', 1)
                   .replace(b"<sf:Subject>Refund</sf:Subject>", b"<sf:Subject>&subject;</sf:Subject>"))


@pytest.mark.parametrize("body", [
    BILLION_LAUGHS, XXE, INTERNAL_ENTITY,
    MESSAGE.replace(b"<soapenv:Envelope", b"<!doctype soapenv:Envelope>\n<soapenv:Envelope", 1),
    MESSAGE.replace(b"<soapenv:Body>", b'<soapenv:Body><!ENTITY e "x">', 1),
])
def test_dtds_and_entities_are_refused_before_parsing(receiver, body):
    assert b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body
    for step in (receiver.verify, receiver.parse):
        with pytest.raises(MalformedPayload) as caught:
            step(request(body))
        assert "DOCTYPE" in caught.value.message


@pytest.mark.parametrize("body", [
    b"", b"not xml", MESSAGE[:-40], b"\xff\xfe<\x00a\x00/>\x00", MESSAGE.decode().encode("utf-16"),
    b"<a/>", b'{"OrganizationId": "00D5g000004XyZa"}',
    b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body/></soapenv:Envelope>',
    MESSAGE.replace(b"http://soap.sforce.com/2005/09/outbound", b"urn:something-else"),
])
def test_malformed_xml_is_rejected(receiver, body):
    with pytest.raises(MalformedPayload) as caught:
        receiver.parse(request(body))
    assert caught.value.status == 400


@pytest.mark.parametrize("broken", [
    CONTACT.replace("<Id>04l5g00000AbCdEAAV</Id>", ""),  # no notification id
    CONTACT.replace("<sf:Id>0035g00000XyZ12AAB</sf:Id>", ""),  # no record id
    CONTACT.replace(' xsi:type="sf:Contact"', ""),  # no sObject type
    "   <Notification><Id>04l5g00000AbCdEAAV</Id></Notification>",  # no sObject
])
def test_a_notification_without_its_ids_is_malformed(receiver, broken):
    with pytest.raises(MalformedPayload):
        receiver.parse(request(envelope(broken)))


def test_more_than_1000_notifications_are_refused(receiver):
    with pytest.raises(MalformedPayload):
        receiver.parse(request(envelope("\n".join([CONTACT] * 1001))))


# -- parsing --------------------------------------------------------------------------
def test_the_sample_message_verifies_and_parses_into_three_events(receiver):
    receiver.verify(request())
    contact, case, task = receiver.parse(request())
    keys = ["04l5g00000AbCdEAAV", "04l5g00000AbCdFAAV", "04l5g00000AbCdGAAV"]
    assert [e.key for e in (contact, case, task)] == keys
    assert [e.type for e in (contact, case, task)] == ["Contact", "Case", "Task"]
    assert [e.object_type for e in (contact, case, task)] == ["customer", "ticket", "activity"]
    assert not any(e.deleted for e in (contact, case, task))


def test_a_contact_notification_maps_to_customer_changes(receiver):
    contact = receiver.parse(request())[0]
    assert contact.object_id == "0035g00000XyZ12AAB"
    assert contact.occurred_at == "2024-01-17T19:55:04+00:00"
    assert contact.changes == {"name": "Ada Lovelace", "email": "ada@example.com", "phone": "+44 7700 900123"}
    assert contact.customer == {"source_id": "0035g00000XyZ12AAB", "name": "Ada Lovelace",
                                "email": "ada@example.com", "phone": "+44 7700 900123"}


def test_a_case_notification_maps_to_ticket_changes(receiver):
    case = receiver.parse(request())[1]
    assert case.object_id == "5005g00000Qw3rTAAR" and case.occurred_at == "2024-01-17T19:56:10+00:00"
    assert case.changes == {"subject": "Refund", "description": "Card charged twice & no receipt",
                            "status": "Working", "priority": "High", "customer_source_id": "0035g00000XyZ12AAB",
                            "created_at": "2024-01-17T19:40:00+00:00", "updated_at": "2024-01-17T19:56:10+00:00",
                            "is_open": True}
    assert case.customer == {"source_id": "0035g00000XyZ12AAB"}


def test_a_task_notification_maps_to_activity_changes(receiver):
    task = receiver.parse(request())[2]
    assert task.object_id == "00T5g00000Lm9PqEAJ" and task.occurred_at == "2024-01-17T19:57:00+00:00"
    assert task.changes == {"kind": "call", "summary": "Call back: Confirm the refund went through",
                            "at": "2024-01-17T19:57:00+00:00", "due_at": "2024-01-19T23:59:59+00:00",
                            "done": False, "ticket_id": "5005g00000Qw3rTAAR"}
    assert task.customer == {"source_id": "0035g00000XyZ12AAB"}


def test_the_payload_keeps_the_fields_but_never_the_session_id(receiver):
    case = receiver.parse(request())[1]
    assert case.payload["organization_id"] == ORG_18 and case.payload["action_id"] == "04k5g000000CaRlAAK"
    assert case.payload["fields"]["Status"] == "Working"
    assert "FakeSession" not in repr([e.payload for e in receiver.parse(request())])


def test_a_redelivered_message_gives_the_same_keys(receiver):
    assert [e.key for e in receiver.parse(request())] == [e.key for e in receiver.parse(request(now=NOW + 7200))]


def test_only_fields_in_the_message_become_changes(receiver):
    body = envelope(notification("04l5g00000AbCdHAAV", "Contact", """     <sf:Id>0035g00000XyZ12AAB</sf:Id>
     <sf:Email xsi:nil="true"/>
     <sf:LastName>Byron</sf:LastName>
     <sf:Account><sf:Name>Analytical Engines Ltd</sf:Name></sf:Account>"""), session='<SessionId xsi:nil="true"/>')
    (contact,) = receiver.parse(request(body))
    assert contact.changes == {"last_name": "Byron", "email": None, "company": "Analytical Engines Ltd"}
    assert contact.occurred_at == "2024-01-17T20:00:00+00:00"  # no date in the message: the time received


def test_a_closed_case_and_a_done_task(receiver):
    body = envelope("\n".join([
        notification("04l5g00000AbCdJAAV", "Case",
                     "<sf:Id>5005g00000Qw3rTAAR</sf:Id><sf:IsClosed>true</sf:IsClosed>"),
        notification("04l5g00000AbCdKAAV", "Task", "<sf:Id>00T5g00000Lm9PqEAJ</sf:Id><sf:IsClosed>true</sf:IsClosed>"
                     "<sf:WhoId>00Q5g00000LeAdXEAZ</sf:WhoId><sf:TaskSubtype>Email</sf:TaskSubtype>")]))
    case, task = receiver.parse(request(body))
    assert case.changes == {"is_open": False}
    assert task.changes == {"kind": "email", "done": True}
    assert task.customer == {}  # a Lead (00Q) is not a customer we hold


def test_a_deleted_record_is_marked_deleted(receiver):
    body = envelope(notification("04l5g00000AbCdLAAV", "Contact",
                                 "<sf:Id>0035g00000XyZ12AAB</sf:Id><sf:IsDeleted>true</sf:IsDeleted>"))
    (contact,) = receiver.parse(request(body))
    assert contact.deleted and contact.object_type == "customer"


def test_other_objects_are_stored_as_other(receiver):
    body = envelope(notification("04l5g00000AbCdMAAV", "Opportunity",
                                 "<sf:Id>0065g00000OpPtYAAR</sf:Id><sf:StageName>Closed Won</sf:StageName>"))
    (other,) = receiver.parse(request(body))
    assert (other.object_type, other.type, other.changes) == ("other", "Opportunity", {})
    assert other.payload["fields"] == {"Id": "0065g00000OpPtYAAR", "StageName": "Closed Won"}


def test_a_batch_of_100_notifications(receiver):
    items = [CONTACT.replace("04l5g00000AbCdEAAV", f"04l5g00000A{i:05d}AAV") for i in range(100)]
    events = receiver.parse(request(envelope("\n".join(items))))
    assert len(events) == 100 and len({e.key for e in events}) == 100


# -- the acknowledgement --------------------------------------------------------------
ACK = (b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
       b'<notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound"><Ack>true</Ack>'
       b'</notificationsResponse></soapenv:Body></soapenv:Envelope>')


def test_the_ack_is_the_soap_notifications_response(receiver):
    status, content_type, body = receiver.ack(receiver.parse(request()))
    assert status == 200 and content_type.split(";")[0] == "text/xml"
    assert body == ACK
    root = ET.fromstring(body)
    ack = root.find("{http://schemas.xmlsoap.org/soap/envelope/}Body/"
                    "{http://soap.sforce.com/2005/09/outbound}notificationsResponse/"
                    "{http://soap.sforce.com/2005/09/outbound}Ack")
    assert root.tag == "{http://schemas.xmlsoap.org/soap/envelope/}Envelope" and ack.text == "true"


def test_an_empty_message_is_still_acknowledged(receiver):
    events = receiver.parse(request(envelope("")))
    assert events == [] and receiver.ack(events)[2] == ACK
