// The seed's send-email function on @aws-sdk/client-sesv2.
const { SendEmailCommand } = require('@aws-sdk/client-sesv2');
const client = require('../lib/ses');

module.exports = async (req, res) => {
  if (req.method !== 'POST') return res.status(405).json({ success: false, error: 'Method not allowed' });
  const { to, subject, body, html } = req.body || {};
  if (!to || !subject || (!body && !html)) {
    return res.status(400).json({ success: false, error: 'Missing required fields: to, subject, body' });
  }
  if (!client) {
    console.log('Email (demo mode):', { to, subject });
    return res.status(200).json({ success: true, message: 'Email logged (demo mode - AWS SES not configured)', demo: true });
  }
  try {
    const result = await client.send(new SendEmailCommand({
      FromEmailAddress: process.env.AWS_SES_FROM_EMAIL,
      Destination: { ToAddresses: Array.isArray(to) ? to : [to] },
      Content: {
        Simple: {
          Subject: { Data: subject, Charset: 'UTF-8' },
          Body: {
            ...(body ? { Text: { Data: body, Charset: 'UTF-8' } } : {}),
            ...(html ? { Html: { Data: html, Charset: 'UTF-8' } } : {}),
          },
        },
      },
    }));
    return res.status(200).json({ success: true, message: 'Email sent successfully', messageId: result.MessageId });
  } catch (error) {
    return res.status(500).json({ success: false, error: error.message });
  }
};
