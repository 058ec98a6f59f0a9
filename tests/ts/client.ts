// A practice frontend's calls, typed by the client generated from docs/openapi.json
// (openapi-typescript) and made through openapi-fetch. `check` compiles this file under
// --strict: a description that types a call wrongly, or lets a wrong one through, fails it.
import createClient from "openapi-fetch";
import type { paths } from "./generated/schema";

const api = createClient<paths>({ baseUrl: "http://localhost:3000" });

export async function seedShapes(): Promise<string | undefined> {
  // The seed guide's calls, verbatim.
  const email = await api.POST("/api/send-email", {
    body: { to: "test@example.com", subject: "Test Email", body: "This is a test email from ClinicalCanvas EHR" },
  });
  const sms = await api.POST("/api/send-sms", {
    body: { to: "+15551234567", message: "Test SMS from ClinicalCanvas" },
  });
  if (email.data && "messageId" in email.data) {
    const success: boolean = email.data.success;
    return success ? email.data.messageId : email.data.id;
  }
  return sms.error?.code;
}

const to = { email: "pat@example.com", phone: "+15551234567" };

export async function everyTemplate(): Promise<void> {
  await api.POST("/api/send-notification", {
    body: { template: "paymentReceived", to, data: { client_name: "John Doe", invoice_number: "INV-123", total_amount: 100.0 } },
  });
  await api.POST("/api/send-notification", {
    body: { template: "paymentFailed", to, data: { client_name: "Pat", invoice_number: "INV-7", total_amount: "$45.00", retry_date: "2026-12-20" } },
  });
  await api.POST("/api/send-notification", {
    body: { template: "refundProcessed", to, data: { client_name: "Pat", invoice_number: "INV-7", refund_amount: 25 } },
  });
  await api.POST("/api/send-notification", {
    body: { template: "invoiceCreated", to, data: { client_name: "Pat", invoice_number: "INV-8", total_amount: "120.00", due_date: "2026-12-31" } },
  });
  await api.POST("/api/send-notification", {
    body: { template: "autopayEnabled", to, data: { client_name: "Pat", card_last4: "4242", start_date: "2027-01-01" } },
  });
  await api.POST("/api/send-notification", {
    body: { template: "autopayFailed", to, data: { client_name: "Pat", invoice_number: "INV-9", total_amount: 80 } },
  });
  await api.POST("/api/send-notification", {
    body: {
      template: "appointmentReminder",
      to: { phone: "+15551234567" },
      data: { client_name: "Pat", appointment_date: "2026-12-24", appointment_time: "09:00" },
      sendAt: "2026-12-23T09:00:00-05:00",
      timezone: "America/Chicago",
    },
  });
  await api.POST("/api/send-notification", {
    body: { template: "documentAssigned", to: { email: "pat@example.com" }, data: { client_name: "Pat", due_date: "2026-11-05" } },
  });
}

export async function mistakesDoNotCompile(): Promise<void> {
  await api.POST("/api/send-notification", {
    // @ts-expect-error: paymentReceived's data needs total_amount.
    body: { template: "paymentReceived", to, data: { client_name: "Pat", invoice_number: "INV-1" } },
  });
  await api.POST("/api/send-notification", {
    // @ts-expect-error: appointment_date is appointmentReminder's, not paymentReceived's.
    body: { template: "paymentReceived", to, data: { client_name: "Pat", invoice_number: "INV-1", total_amount: 1, appointment_date: "2026-12-24" } },
  });
  await api.POST("/api/send-notification", {
    // @ts-expect-error: there is no such template.
    body: { template: "labResults", to, data: { client_name: "Pat" } },
  });
  await api.POST("/api/send-sms", {
    // @ts-expect-error: an SMS needs its message.
    body: { to: "+15551234567" },
  });
}
