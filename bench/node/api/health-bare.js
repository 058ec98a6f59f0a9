// The least a Node health check can be: it reads the environment and loads no SDK. Reported
// beside the like-for-like health (api/health.js) so the reader sees both.
module.exports = async (req, res) => {
  const email = Boolean(process.env.AWS_SES_ACCESS_KEY_ID && process.env.AWS_SES_SECRET_ACCESS_KEY);
  const sms = Boolean(process.env.TWILIO_ACCOUNT_SID && process.env.TWILIO_AUTH_TOKEN);
  res.status(200).json({
    success: true,
    services: { email: email ? 'aws-ses' : 'demo', sms: sms ? 'twilio' : 'demo' },
  });
};
