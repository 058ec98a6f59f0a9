// The seed's send-sms function on the twilio package.
const client = require('../lib/twilio');

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
