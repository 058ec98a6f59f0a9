// The seed's health check ("confirms services active"), like for like with this project's: it
// builds both channels' clients from the environment at start-up, as `App::from_env` does, and
// reports which are configured.
const ses = require('../lib/ses');
const sms = require('../lib/twilio');

module.exports = async (req, res) => {
  res.status(200).json({
    success: true,
    services: { email: ses ? 'aws-ses' : 'demo', sms: sms ? 'twilio' : 'demo' },
  });
};
