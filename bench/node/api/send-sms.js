// The seed's send-sms function on the twilio package, client created at module scope. Its
// request client is pointed at TWILIO_API_BASE_URL (the benchmark's local stub).
const twilio = require('twilio');

class LocalRequestClient extends twilio.RequestClient {
  request(options) {
    const base = process.env.TWILIO_API_BASE_URL;
    if (base) options.uri = options.uri.replace(/^https:\/\/api\.twilio\.com/, base);
    return super.request(options);
  }
}

const configured = Boolean(process.env.TWILIO_ACCOUNT_SID && process.env.TWILIO_AUTH_TOKEN);
const client = configured
  ? twilio(process.env.TWILIO_ACCOUNT_SID, process.env.TWILIO_AUTH_TOKEN, {
      httpClient: new LocalRequestClient({ keepAlive: true }),
    })
  : null;

module.exports = async (req, res) => {
  if (req.method !== 'POST') return res.status(405).json({ success: false, error: 'Method not allowed' });
  const { to, message } = req.body || {};
  if (!to || !message) return res.status(400).json({ success: false, error: 'Missing required fields: to, message' });
  if (!/^\+[1-9]\d{1,14}$/.test(to)) {
    return res.status(400).json({ success: false, error: 'Invalid phone number format. Use E.164 format: +1XXXXXXXXXX' });
  }
  if (!client) {
    console.log('SMS (demo mode):', { to });
    return res.status(200).json({ success: true, message: 'SMS logged (demo mode - Twilio not configured)', demo: true });
  }
  try {
    const result = await client.messages.create({ body: message, from: process.env.TWILIO_PHONE_NUMBER, to });
    return res.status(200).json({ success: true, message: 'SMS sent successfully', messageId: result.sid });
  } catch (error) {
    return res.status(500).json({ success: false, error: error.message });
  }
};
